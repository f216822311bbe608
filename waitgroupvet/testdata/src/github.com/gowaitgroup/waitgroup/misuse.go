package waitgroup

import "context"

// misuse is what the analyzers would report anywhere else: the package's
// own tests misuse it on purpose, so it is not checked (see
// TestOwnPackageNotChecked).
func misuse(ctx context.Context) {
	g := WithContext(ctx)
	g.Add()
	g.Go(func(ctx context.Context) error { return g.Wait(ctx) })
	go func() {
		id := g.Add()
		defer g.Done(id)
	}()
	_ = g.Wait(context.Background())
}
