package api

import (
	"net/url"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/model"
)

// /api/email/template and /api/email/send: FusionAuth's email template API.
// Templates are Go templates over FusionAuth's variable names.

type emailTemplateRequest struct {
	EmailTemplate *model.EmailTemplate `json:"emailTemplate"`
}

type emailTemplateResponse struct {
	EmailTemplate *model.EmailTemplate `json:"emailTemplate"`
}

type emailTemplatesResponse struct {
	EmailTemplates []*model.EmailTemplate `json:"emailTemplates"`
}

type emailTemplateSearchResponse struct {
	EmailTemplates []*model.EmailTemplate `json:"emailTemplates"`
	Total          int                    `json:"total"`
}

type previewRequest struct {
	EmailTemplate *model.EmailTemplate `json:"emailTemplate"`
	Locale        string               `json:"locale"`
}

type previewResponse struct {
	Email  *model.Email `json:"email"`
	Errors model.Errors `json:"errors"`
}

func (s *Server) createEmailTemplate(c Call, req emailTemplateRequest) (any, error) {
	t, err := s.email.CreateTemplate(c, c.Actor, c.Path("id"), req.EmailTemplate)
	return emailTemplateResponse{t}, err
}

func (s *Server) retrieveEmailTemplate(c Call, _ struct{}) (any, error) {
	t, err := s.email.Template(c, c.Path("id"))
	return emailTemplateResponse{t}, err
}

func (s *Server) retrieveEmailTemplates(c Call, _ struct{}) (any, error) {
	ts, err := s.email.Templates(c)
	return emailTemplatesResponse{ts}, err
}

func (s *Server) updateEmailTemplate(c Call, req emailTemplateRequest) (any, error) {
	t, err := s.email.UpdateTemplate(c, c.Actor, c.Path("id"), req.EmailTemplate)
	return emailTemplateResponse{t}, err
}

func (s *Server) patchEmailTemplate(c Call, p Patch) (any, error) {
	t, err := s.email.PatchTemplate(c, c.Actor, c.Path("id"), p.Form, p.Body)
	return emailTemplateResponse{t}, err
}

func (s *Server) deleteEmailTemplate(c Call, _ struct{}) (any, error) {
	return nil, s.email.DeleteTemplate(c, c.Actor, c.Path("id"))
}

func (s *Server) searchEmailTemplates(c Call, q email.TemplateSearch) (any, error) {
	ts, total, err := s.email.SearchTemplates(c, q)
	return emailTemplateSearchResponse{EmailTemplates: ts, Total: total}, err
}

func emailTemplateQuery(v url.Values, verrs *model.Errors) (q email.TemplateSearch) {
	q.Name = v.Get("name")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

func (s *Server) previewEmailTemplate(c Call, req previewRequest) (any, error) {
	e, err := s.email.Preview(c, req.EmailTemplate, req.Locale)
	return previewResponse{Email: e}, err
}

type sendEmailRequest = email.SendRequest

func (s *Server) sendEmail(c Call, req sendEmailRequest) (any, error) {
	return s.email.Send(c, c.Actor, c.Scope, c.Path("id"), req)
}

type emailTestRequest = email.TestRequest

// testEmail is Latch's test-send (FusionAuth has it in its admin UI only):
// 200 with an empty object once the SMTP server took the message.
func (s *Server) testEmail(c Call, req emailTestRequest) (any, error) {
	if err := s.email.TestSend(c, c.Scope, req); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
