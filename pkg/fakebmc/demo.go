package fakebmc

// NewDemoHost returns the demo host (issue 4 fills it in); for now an echo.
func NewDemoHost() Host { return EchoHost{} }
