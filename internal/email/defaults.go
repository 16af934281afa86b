package email

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// FusionAuth installs a set of default email templates named
// "[FusionAuth Default] …" with ids generated per install, and the Default
// tenant's emailConfiguration names them. Latch does the same once per
// database, with fixed ids (so kickstart files and tests can name them),
// written as Go templates over FusionAuth's variables. baseURL (Latch's
// public address) is a Latch addition, so the links work without editing.
const (
	DefaultVerificationTemplateID             = model.DefaultVerificationEmailTemplateID
	DefaultForgotPasswordTemplateID           = model.DefaultForgotPasswordEmailTemplateID
	DefaultPasswordlessTemplateID             = model.DefaultPasswordlessEmailTemplateID
	DefaultSetPasswordTemplateID              = model.DefaultSetPasswordEmailTemplateID
	DefaultRegistrationVerificationTemplateID = "a8a4ff5b-ef6a-4d7c-a3c1-d7a1e4f3cf3a"
	DefaultTwoFactorTemplateID                = "b0f5d6a1-6a93-4a5e-9a2b-3f8cd9d1c4e7"
)

// settingDefaultTemplates marks that the default templates were created.
const settingDefaultTemplates = "default_email_templates_instant"

func link(path string) string { return `{{.baseURL}}` + path }

var defaultTemplates = []model.EmailTemplate{
	{
		ID: DefaultVerificationTemplateID, Name: "[FusionAuth Default] Email Verification",
		DefaultSubject:      "Verify your email address",
		DefaultTextTemplate: "Hi {{.user.firstName}},\n\nTo finish setting up your account, verify your email address:\n\n" + link("/email/verify/{{.verificationId}}") + "\n\nOr enter this code: {{.verificationOneTimeCode}}\n\n- {{.tenant.name}}\n",
		DefaultHTMLTemplate: `<p>Hi {{.user.firstName}},</p><p>To finish setting up your account, <a href="` + link("/email/verify/{{.verificationId}}") + `">verify your email address</a>.</p><p>Or enter this code: <strong>{{.verificationOneTimeCode}}</strong></p><p>- {{.tenant.name}}</p>`,
		LocalizedSubjects:   map[string]string{"de": "Bestätigen Sie Ihre E-Mail-Adresse", "fr": "Vérifiez votre adresse e-mail"},
		LocalizedTextTemplates: map[string]string{
			"de": "Hallo {{.user.firstName}},\n\nbitte bestätigen Sie Ihre E-Mail-Adresse:\n\n" + link("/email/verify/{{.verificationId}}") + "\n\nOder geben Sie diesen Code ein: {{.verificationOneTimeCode}}\n",
			"fr": "Bonjour {{.user.firstName}},\n\nveuillez vérifier votre adresse e-mail :\n\n" + link("/email/verify/{{.verificationId}}") + "\n\nOu saisissez ce code : {{.verificationOneTimeCode}}\n",
		},
	},
	{
		ID: DefaultForgotPasswordTemplateID, Name: "[FusionAuth Default] Forgot Password",
		DefaultSubject:      "Reset your password",
		DefaultTextTemplate: "Hi {{.user.firstName}},\n\nSomeone asked to reset the password of your account. If it was you, choose a new password here:\n\n" + link("/password/change/{{.changePasswordId}}") + "\n\nIf it was not you, ignore this message; your password stays as it is.\n\n- {{.tenant.name}}\n",
		DefaultHTMLTemplate: `<p>Hi {{.user.firstName}},</p><p>Someone asked to reset the password of your account. If it was you, <a href="` + link("/password/change/{{.changePasswordId}}") + `">choose a new password</a>.</p><p>If it was not you, ignore this message; your password stays as it is.</p><p>- {{.tenant.name}}</p>`,
		LocalizedSubjects:   map[string]string{"de": "Passwort zurücksetzen", "fr": "Réinitialisez votre mot de passe"},
		LocalizedTextTemplates: map[string]string{
			"de": "Hallo {{.user.firstName}},\n\nwählen Sie hier ein neues Passwort:\n\n" + link("/password/change/{{.changePasswordId}}") + "\n\nWenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht.\n",
			"fr": "Bonjour {{.user.firstName}},\n\nchoisissez un nouveau mot de passe ici :\n\n" + link("/password/change/{{.changePasswordId}}") + "\n\nSi vous n'avez rien demandé, ignorez ce message.\n",
		},
	},
	{
		ID: DefaultPasswordlessTemplateID, Name: "[FusionAuth Default] Passwordless Login",
		DefaultSubject:      "Your sign-in link",
		DefaultTextTemplate: "Hi {{.user.firstName}},\n\nSign in with this link:\n\n" + link("/oauth2/passwordless/{{.code}}") + "\n\nIt works once and expires soon.\n",
		DefaultHTMLTemplate: `<p>Hi {{.user.firstName}},</p><p><a href="` + link("/oauth2/passwordless/{{.code}}") + `">Sign in</a>. The link works once and expires soon.</p>`,
		LocalizedSubjects:   map[string]string{"de": "Ihr Anmeldelink", "fr": "Votre lien de connexion"},
	},
	{
		ID: DefaultSetPasswordTemplateID, Name: "[FusionAuth Default] Setup Password",
		DefaultSubject:      "Set up your password",
		DefaultTextTemplate: "Hi {{.user.firstName}},\n\nAn account was created for you. Choose your password here:\n\n" + link("/password/change/{{.changePasswordId}}") + "\n\n- {{.tenant.name}}\n",
		DefaultHTMLTemplate: `<p>Hi {{.user.firstName}},</p><p>An account was created for you. <a href="` + link("/password/change/{{.changePasswordId}}") + `">Choose your password</a>.</p><p>- {{.tenant.name}}</p>`,
		LocalizedSubjects:   map[string]string{"de": "Richten Sie Ihr Passwort ein", "fr": "Choisissez votre mot de passe"},
	},
	{
		ID: DefaultRegistrationVerificationTemplateID, Name: "[FusionAuth Default] Registration Verification",
		DefaultSubject:      "Verify your registration",
		DefaultTextTemplate: "Hi {{.user.firstName}},\n\nVerify your registration with {{.application.name}}:\n\n" + link("/registration/verify/{{.verificationId}}") + "\n\nOr enter this code: {{.verificationOneTimeCode}}\n",
		DefaultHTMLTemplate: `<p>Hi {{.user.firstName}},</p><p><a href="` + link("/registration/verify/{{.verificationId}}") + `">Verify your registration</a> with {{.application.name}}.</p><p>Or enter this code: <strong>{{.verificationOneTimeCode}}</strong></p>`,
	},
	{
		ID: DefaultTwoFactorTemplateID, Name: "[FusionAuth Default] Two Factor Authentication",
		DefaultSubject:      "Your verification code",
		DefaultTextTemplate: "Your verification code is {{.code}}\n",
		DefaultHTMLTemplate: `<p>Your verification code is <strong>{{.code}}</strong></p>`,
		LocalizedSubjects:   map[string]string{"de": "Ihr Bestätigungscode", "fr": "Votre code de vérification"},
		LocalizedTextTemplates: map[string]string{
			"de": "Ihr Bestätigungscode lautet {{.code}}\n",
			"fr": "Votre code de vérification est {{.code}}\n",
		},
	},
}

// Bootstrap creates FusionAuth's default templates once per database, in
// one transaction whose first statement marks them done: of nodes starting
// together on one database, one creates them and the others do nothing.
// (The Default tenant names them from its creation: tenancy.Bootstrap.)
func (s *Service) Bootstrap(ctx context.Context) error {
	if _, done, err := s.store.Read().Setting(ctx, settingDefaultTemplates); err != nil || done {
		return err
	}
	now := s.now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSetting(ctx, settingDefaultTemplates, strconv.FormatInt(now, 10)); err != nil {
			return err
		}
		for _, d := range defaultTemplates {
			if _, err := tx.EmailTemplateByID(ctx, d.ID); err == nil {
				continue // kept from before
			} else if !errors.Is(err, store.ErrNoRows) {
				return err
			}
			t := d
			t.InsertInstant, t.LastUpdateInstant = now, now
			if err := s.insert(ctx, tx, kit.Actor{Type: kit.ActorSystem}, &t); err != nil {
				return err
			}
		}
		return nil
	})
	if store.IsUnique(err) {
		return nil // another node created them
	}
	if err != nil {
		return fmt.Errorf("default email templates: %w", err)
	}
	return nil
}
