// Package poll holds kiln's one way to wait for something: try it every so often, keep the last
// reason it was not ready, and give up after a named timeout with that reason in the error.
//
// It uses only the standard library, so every program may import it, kiln-init included.
//
//	err := poll.Until(ctx, poll.Every(time.Second).Within(5*time.Minute), func(ctx context.Context) error {
//		if !ready() {
//			return errors.New("not ready yet") // the last such error ends up in the timeout error
//		}
//		return nil
//	})
//
// A try returns nil when it is done, poll.Stop(err) when waiting longer cannot help (a wrong CA
// pin, a token the cluster rejected), and any other error to be tried again.
package poll
