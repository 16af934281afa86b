package app

import "context"

func runRecover(ctx context.Context, env Env, args []string) error {
	return usageError{"usage: latch recover api-key|admin [flags]"}
}
