package debug_test

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/debug"
)

// Mount the handler on a mux of its own, served on a private address; here
// a test server on loopback stands for it.
func ExampleHandler() {
	runtime.GC() // forget the groups of earlier examples

	svc := waitgroup.New(waitgroup.GroupName("svc"), waitgroup.Registered(), waitgroup.Labels())
	conns := svc.Sub(waitgroup.GroupName("conns")) // shown below svc
	id := conns.Add(waitgroup.Name("conn 10.0.0.7"))

	mux := http.NewServeMux()
	mux.Handle("/debug/waitgroup", debug.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/debug/waitgroup?format=json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var view struct {
		Groups []struct {
			Path    string
			Pending int
			Tasks   []struct{ Name, State string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&view); err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range view.Groups {
		fmt.Println(g.Path, g.Pending, g.Tasks)
	}

	conns.Done(id)
	svc.Wait(context.Background())
	// Output:
	// svc 0 []
	// svc/conns 1 [{conn 10.0.0.7 running}]
}

// The same view as JSON in expvar's /debug/vars, if the program serves it.
func ExampleVar() {
	if expvar.Get("waitgroup") == nil {
		expvar.Publish("waitgroup", debug.Var())
	}
	fmt.Println(expvar.Get("waitgroup").String()[:11])
	// Output: {"groups":[
}
