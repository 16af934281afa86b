package api

import (
	"net/url"

	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/model"
)

// /api/webhook: FusionAuth's webhook API; /api/system/webhook-event-log,
// webhook-attempt-log and event-log: what became of the events and of
// deliveries that failed.

type webhookRequest struct {
	Webhook *model.Webhook `json:"webhook"`
}

type webhookResponse struct {
	Webhook *model.Webhook `json:"webhook"`
}

type webhooksResponse struct {
	Webhooks []*model.Webhook `json:"webhooks"`
}

type webhookSearchResponse struct {
	Webhooks []*model.Webhook `json:"webhooks"`
	Total    int              `json:"total"`
}

func (s *Server) createWebhook(c Call, req webhookRequest) (any, error) {
	w, err := s.events.CreateWebhook(c, c.Actor, c.Path("id"), req.Webhook)
	return webhookResponse{w}, err
}

func (s *Server) retrieveWebhook(c Call, _ struct{}) (any, error) {
	w, err := s.events.Webhook(c, c.Path("id"))
	return webhookResponse{w}, err
}

func (s *Server) retrieveWebhooks(c Call, _ struct{}) (any, error) {
	ws, err := s.events.Webhooks(c)
	return webhooksResponse{ws}, err
}

func (s *Server) updateWebhook(c Call, req webhookRequest) (any, error) {
	w, err := s.events.UpdateWebhook(c, c.Actor, c.Path("id"), req.Webhook)
	return webhookResponse{w}, err
}

func (s *Server) patchWebhook(c Call, p Patch) (any, error) {
	w, err := s.events.PatchWebhook(c, c.Actor, c.Path("id"), p.Form, p.Body)
	return webhookResponse{w}, err
}

func (s *Server) deleteWebhook(c Call, _ struct{}) (any, error) {
	return nil, s.events.DeleteWebhook(c, c.Actor, c.Path("id"))
}

func (s *Server) searchWebhooks(c Call, q events.WebhookSearch) (any, error) {
	ws, total, err := s.events.SearchWebhooks(c, q)
	return webhookSearchResponse{Webhooks: ws, Total: total}, err
}

func webhookQuery(v url.Values, verrs *model.Errors) (q events.WebhookSearch) {
	q.Description, q.URL = v.Get("description"), v.Get("url")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

type webhookEventLogResponse struct {
	WebhookEventLog *model.WebhookEventLog `json:"webhookEventLog"`
}

type webhookEventLogSearchResponse struct {
	WebhookEventLogs []*model.WebhookEventLog `json:"webhookEventLogs"`
	Total            int                      `json:"total"`
}

type webhookAttemptLogResponse struct {
	WebhookAttemptLog *model.WebhookAttemptLog `json:"webhookAttemptLog"`
}

type eventLogResponse struct {
	EventLog *model.EventLog `json:"eventLog"`
}

type eventLogSearchResponse struct {
	EventLogs []*model.EventLog `json:"eventLogs"`
	Total     int               `json:"total"`
}

func (s *Server) retrieveWebhookEventLog(c Call, _ struct{}) (any, error) {
	l, err := s.events.WebhookEventLog(c, c.Path("id"))
	return webhookEventLogResponse{l}, err
}

func (s *Server) retrieveWebhookAttemptLog(c Call, _ struct{}) (any, error) {
	l, err := s.events.WebhookAttemptLog(c, c.Path("id"))
	return webhookAttemptLogResponse{l}, err
}

func (s *Server) searchWebhookEventLogs(c Call, q events.WebhookEventLogSearch) (any, error) {
	ls, total, err := s.events.SearchWebhookEventLogs(c, q)
	return webhookEventLogSearchResponse{WebhookEventLogs: ls, Total: total}, err
}

func webhookEventLogQuery(v url.Values, verrs *model.Errors) (q events.WebhookEventLogSearch) {
	q.EventType, q.EventResult, q.OrderBy = v.Get("eventType"), v.Get("eventResult"), v.Get("orderBy")
	q.Start = searchQueryInt64(verrs, v, "start")
	q.End = searchQueryInt64(verrs, v, "end")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

func (s *Server) retrieveEventLog(c Call, _ struct{}) (any, error) {
	l, err := s.events.EventLog(c, c.Path("id"))
	return eventLogResponse{l}, err
}

func (s *Server) searchEventLogs(c Call, q events.EventLogSearch) (any, error) {
	ls, total, err := s.events.SearchEventLogs(c, q)
	return eventLogSearchResponse{EventLogs: ls, Total: total}, err
}

func eventLogQuery(v url.Values, verrs *model.Errors) (q events.EventLogSearch) {
	q.Message, q.Type, q.OrderBy = v.Get("message"), v.Get("type"), v.Get("orderBy")
	q.Start = searchQueryInt64(verrs, v, "start")
	q.End = searchQueryInt64(verrs, v, "end")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}
