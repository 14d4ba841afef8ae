package main

import (
	"fmt"
	"os"

	"github.com/kilnproject/kiln/internal/initrd/earlyboot"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "kiln-init: runs only as PID 1 of a kiln initramfs")
		os.Exit(2)
	}
	earlyboot.Main()
}
