package tokensecret

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/secret"
	"github.com/kilnproject/kiln/internal/testkit/tokentest"
)

func fullToken() *token.Token {
	exp := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
	return &token.Token{
		ID: testID, Secret: secret.New(testSecret), Description: "for workers", Expires: &exp,
		Usages: []string{"signing", "authentication"},
		Groups: []string{"system:bootstrappers:kubeadm:default-node-token", "system:bootstrappers:extra"},
	}
}

// TestToSecretLayout pins kubeadm's Secret layout field by field.
func TestToSecretLayout(t *testing.T) {
	s := ToSecret(fullToken())
	if s.Name != "bootstrap-token-abcdef" || s.Namespace != "kube-system" || s.Type != "bootstrap.kubernetes.io/token" {
		t.Errorf("metadata/type: %s/%s %s", s.Namespace, s.Name, s.Type)
	}
	want := map[string]string{
		"token-id":                       "abcdef",
		"token-secret":                   "0123456789abcdef",
		"description":                    "for workers",
		"expiration":                     "2026-05-02T10:00:00Z",
		"usage-bootstrap-signing":        "true",
		"usage-bootstrap-authentication": "true",
		"auth-extra-groups":              "system:bootstrappers:kubeadm:default-node-token,system:bootstrappers:extra",
	}
	if diff := cmp.Diff(want, stringData(s)); diff != "" {
		t.Errorf("Secret data (-want +got):\n%s", diff)
	}

	minimal := &token.Token{ID: testID, Secret: secret.New(testSecret), Usages: []string{"signing"}}
	want = map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef", "usage-bootstrap-signing": "true"}
	if diff := cmp.Diff(want, stringData(ToSecret(minimal))); diff != "" {
		t.Errorf("minimal Secret data (-want +got):\n%s", diff)
	}
}

func stringData(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

func TestFromSecretRoundTrip(t *testing.T) {
	want := fullToken()
	got, err := FromSecret(ToSecret(want))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, sameSecret); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestFromSecretErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*corev1.Secret)
	}{
		{"wrong type", func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque }},
		{"name does not match id", func(s *corev1.Secret) { s.Name = "bootstrap-token-zzzzzz" }},
		{"no id", func(s *corev1.Secret) { delete(s.Data, "token-id") }},
		{"bad secret", func(s *corev1.Secret) { s.Data["token-secret"] = []byte("0123456789ABCDEF") }},
		{"bad expiration", func(s *corev1.Secret) { s.Data["expiration"] = []byte("tomorrow") }},
		{"bad group", func(s *corev1.Secret) { s.Data["auth-extra-groups"] = []byte("system:masters") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ToSecret(fullToken())
			tc.mutate(s)
			_, err := FromSecret(s)
			if !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			tokentest.AssertNoSecret(t, err, testToken)
			tokentest.AssertNoSecret(t, err, "x.0123456789ABCDEF")
		})
	}
}

func TestCreateAndList(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: "kube-system"},
		Type:       corev1.SecretTypeOpaque,
	})
	never := &token.Token{ID: "zzzzzz", Secret: secret.New("zzzzzzzzzzzzzzzz"), Usages: []string{"authentication"}}
	for _, tok := range []*token.Token{never, fullToken()} {
		if err := Create(ctx, client, tok); err != nil {
			t.Fatal(err)
		}
	}

	// Creating the same token again writes nothing.
	client.ClearActions()
	if err := Create(ctx, client, fullToken()); err != nil {
		t.Fatal(err)
	}
	assertNoWrites(t, client.Actions())

	// A changed token updates its Secret.
	changed := fullToken()
	changed.Description = "changed"
	if err := Create(ctx, client, changed); err != nil {
		t.Fatal(err)
	}

	got, err := List(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*token.Token{changed, never}, got, sameSecret); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func assertNoWrites(t *testing.T, actions []k8stesting.Action) {
	t.Helper()
	for _, a := range actions {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			t.Errorf("unexpected %s %s", v, a.GetResource().Resource)
		}
	}
}

func TestCreateErrorHidesSecret(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("boom")
	})
	err := Create(context.Background(), client, fullToken())
	if err == nil {
		t.Fatal("want an error")
	}
	tokentest.AssertNoSecret(t, err, testToken)
}
