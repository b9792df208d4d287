package fakebmccli

import (
	"io"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// provider is a shipmi provider file.
type provider struct {
	Path string
}

func (p *provider) attach(c *fakebmc.Chassis, name string, logw io.Writer) {}

func (p *provider) powerText(name string) string { return "on" }
