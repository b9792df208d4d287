package sol_test

import "runtime"

func runtimeGosched() { runtime.Gosched() }
