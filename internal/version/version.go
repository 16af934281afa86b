// Package version holds the build's version, set with -ldflags at release.
package version

// Version is overridden at build time: -ldflags "-X github.com/latchid/latch/internal/version.Version=1.2.3".
var Version = "0.1.0-dev"
