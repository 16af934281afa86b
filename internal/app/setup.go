package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
)

func runSetup(ctx context.Context, env Env, args []string) error {
	var email, passwordFile, name, keyOut string
	cfg, err := parse(env, "setup", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "admin-email", "", "the first admin's email (required)")
		fs.StringVar(&passwordFile, "admin-password-file", "", "file holding the admin's password, 8-256 characters (required)")
		fs.StringVar(&name, "admin-name", "", "the admin's full name")
		fs.StringVar(&keyOut, "key-out", "", "write only the initial API key to this file (mode 0600) instead of printing it")
	})
	if err != nil {
		return err
	}
	if email == "" || passwordFile == "" {
		return usageError{"--admin-email and --admin-password-file are required"}
	}
	pw, err := os.ReadFile(passwordFile)
	if err != nil {
		return usageError{"cannot read the password file: " + err.Error()}
	}
	if keyOut != "" {
		// Fail before setup: the initial key is shown once, so an unwritable
		// destination would lose it.
		if st, err := os.Stat(filepath.Dir(keyOut)); err != nil || !st.IsDir() {
			return usageError{"--key-out: the directory of " + keyOut + " does not exist"}
		}
	}
	log := newLogger(cfg, env.Stderr)
	svc, closeDB, err := openCore(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := svc.Access.Setup(ctx, cliActor(), access.SetupInput{
		Email: email, FullName: name, Password: strings.TrimRight(string(pw), "\r\n"),
	})
	var verrs *model.Errors
	switch {
	case errors.Is(err, model.ErrSetupDone):
		return errors.New("setup was already done on this database; to regain access use 'latch recover api-key' or 'latch recover admin'")
	case errors.As(err, &verrs):
		return usageError{describeErrors(verrs)}
	case err != nil:
		return err
	}
	return emitKey(env, keyOut, res.Key, "Setup complete. The admin "+email+" can sign in.")
}

// emitKey shows a newly made key once: in a 0600 file when asked, else on stdout.
func emitKey(env Env, keyOut string, key secrets.Secret, header string) error {
	if keyOut != "" {
		f, err := os.OpenFile(keyOut, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("write key file: %w (the key was created; run 'latch recover api-key' to mint another)", err)
		}
		_ = f.Chmod(0o600) // an existing file keeps its mode otherwise
		if _, err := f.WriteString(key.Reveal() + "\n"); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(env.Stderr, header+" The API key was written to "+keyOut+".")
		return nil
	}
	fmt.Fprintln(env.Stderr, header+" This API key is shown once; keep it in a secrets manager:")
	fmt.Fprintln(env.Stdout, key.Reveal())
	return nil
}

// cliActor names the operator at the shell for the audit log.
func cliActor() kit.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return kit.Actor{Type: kit.ActorCLI, ID: name, Name: "cli " + name + "@" + host}
}

func describeErrors(e *model.Errors) string {
	var parts []string
	for _, g := range e.GeneralErrors {
		parts = append(parts, g.Message)
	}
	for _, items := range e.FieldErrors {
		for _, it := range items {
			parts = append(parts, it.Message)
		}
	}
	return strings.Join(parts, " ")
}
