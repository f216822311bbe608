package migrate

import (
	"fmt"
	"sync"
)

func noContext() {
	var wg sync.WaitGroup // want `sync.WaitGroup wg maps one to one`
	wg.Add(1)
	go func() {
		defer wg.Done()
		fmt.Println("hello")
	}()
	wg.Wait()
}
