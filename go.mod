module github.com/ghmicons/ghmicons

go 1.26.0

require (
	github.com/spf13/pflag v1.0.10
	golang.org/x/sys v0.49.0
)

require golang.org/x/term v0.47.0

require github.com/BurntSushi/toml v1.6.0
