package handler

import (
	"strings"

	"github.com/rs/zerolog"
)

// EnvVariable names the consumer's environment variable that lists
// (separated by spaces or commas) further variables of the consumer's
// environment that executable handlers get, e.g. "HTTP_PROXY HANDLER_DB".
// Variables named RABBITMQ_CONSUMER_* (the consumer's own settings and
// credentials) are never passed.
const EnvVariable = "RABBITMQ_CONSUMER_HANDLER_ENV"

// consumerEnvPrefix starts the consumer's own settings, credentials among
// them; no handler gets them.
const consumerEnvPrefix = "RABBITMQ_CONSUMER_"

// handlerEnv is the environment an executable handler starts from, taken
// from the consumer's environment env: PATH, HOME, LANG, LC_*, TZ, and the
// variables EnvVariable lists. The RPC_* variables of each request
// are added to it. What it refuses to pass is logged.
func handlerEnv(env []string, log zerolog.Logger) []string {
	extra := map[string]bool{}
	for _, name := range strings.FieldsFunc(lookupEnv(env, EnvVariable), func(r rune) bool { return r == ' ' || r == ',' }) {
		if strings.HasPrefix(name, consumerEnvPrefix) {
			log.Warn().Str("variable", name).Msg(EnvVariable + ": the consumer's own settings are never passed to handlers")
			continue
		}
		extra[name] = true
	}
	var out []string
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || strings.HasPrefix(name, "RPC_") {
			continue // RPC_* are the request's, set for each run
		}
		switch {
		case name == "PATH", name == "HOME", name == "LANG", name == "TZ", strings.HasPrefix(name, "LC_"), extra[name]:
			out = append(out, kv)
		}
	}
	return out
}

func lookupEnv(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
