// Package waitgroup has the API of github.com/gowaitgroup/waitgroup under another
// import path: the analyzers must not mistake it for the real one.
package waitgroup

import (
	"context"
	"iter"
)

type Group struct{ ctx context.Context }

type ID struct{ n uint64 }

type Option interface{ applyGroup(*Group) }

type TaskOption interface{ taskOption() }

type Link interface {
	Wait(ctx context.Context) error
}

func New(opts ...Option) *Group { return WithContext(context.Background(), opts...) }

func WithContext(ctx context.Context, opts ...Option) *Group { return &Group{ctx: ctx} }

func CancelOnError() Option { return nil }

func GroupName(name string) Option { return nil }

func Limit(n int) Option { return nil }

func Name(name string) TaskOption { return nil }

func (g *Group) Add(opts ...TaskOption) ID { return ID{} }

func (g *Group) Done(id ID) error { return nil }

func (g *Group) Go(f func(ctx context.Context) error, opts ...TaskOption) {}

func (g *Group) TryGo(f func(ctx context.Context) error, opts ...TaskOption) bool { return true }

func (g *Group) SetLimit(n int) {}

func (g *Group) Wait(ctx context.Context) error { return nil }

func (g *Group) Cancel(cause error) {}

func (g *Group) Context() context.Context { return g.ctx }

func (g *Group) Link(other Link) {}

func (g *Group) Sub(opts ...Option) *Group { return &Group{ctx: g.ctx} }

func Map[T, R any](ctx context.Context, items []T, f func(ctx context.Context, item T) (R, error), opts ...Option) ([]R, error) {
	return nil, nil
}

func MapSeq[T, R any](ctx context.Context, items iter.Seq[T], f func(ctx context.Context, item T) (R, error), opts ...Option) iter.Seq2[R, error] {
	return nil
}

type Results[T any] struct{ g *Group }

func NewResults[T any](g *Group) *Results[T] { return &Results[T]{g: g} }

func (r *Results[T]) Go(f func(ctx context.Context) (T, error), opts ...TaskOption) {}

func (r *Results[T]) TryGo(f func(ctx context.Context) (T, error), opts ...TaskOption) bool {
	return true
}

func (r *Results[T]) Wait(ctx context.Context) ([]T, error) { return nil, nil }
