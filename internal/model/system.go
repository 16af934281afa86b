package model

// CORSConfiguration is FusionAuth's corsConfiguration of the system
// configuration: which browser origins may call the OAuth surface
// (/oauth2/*, /app/*, /.well-known/*) and read its answers.
type CORSConfiguration struct {
	Enabled                  bool     `json:"enabled"`
	AllowCredentials         bool     `json:"allowCredentials"`
	AllowedHeaders           []string `json:"allowedHeaders"`
	AllowedMethods           []string `json:"allowedMethods"`
	AllowedOrigins           []string `json:"allowedOrigins"`
	Debug                    bool     `json:"debug"`
	ExposedHeaders           []string `json:"exposedHeaders"`
	PreflightMaxAgeInSeconds int      `json:"preflightMaxAgeInSeconds"`
}
