package tokensecret

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstrapsecrets "k8s.io/cluster-bootstrap/util/secrets"

	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/secret"
)

// ToSecret returns t as kubeadm stores it (BootstrapTokenToSecret): kube-system/
// bootstrap-token-<id> of type bootstrap.kubernetes.io/token, with token-id, token-secret,
// description (when set), expiration (RFC3339 UTC, when set), usage-bootstrap-<usage>: "true"
// and auth-extra-groups (comma-separated, when set).
func ToSecret(t *token.Token) *corev1.Secret {
	data := map[string][]byte{
		bootstrapapi.BootstrapTokenIDKey:     []byte(t.ID),
		bootstrapapi.BootstrapTokenSecretKey: []byte(t.Secret.Reveal()),
	}
	if t.Description != "" {
		data[bootstrapapi.BootstrapTokenDescriptionKey] = []byte(t.Description)
	}
	if t.Expires != nil {
		data[bootstrapapi.BootstrapTokenExpirationKey] = []byte(t.Expires.UTC().Format(time.RFC3339))
	}
	for _, usage := range t.Usages {
		data[bootstrapapi.BootstrapTokenUsagePrefix+usage] = []byte("true")
	}
	if len(t.Groups) > 0 {
		data[bootstrapapi.BootstrapTokenExtraGroupsKey] = []byte(strings.Join(t.Groups, ","))
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      bootstraputil.BootstrapTokenSecretName(t.ID),
			Namespace: metav1.NamespaceSystem,
		},
		Type: bootstrapapi.SecretTypeBootstrapToken,
		Data: data,
	}
}

// FromSecret reads a token back from its Secret (kubeadm's BootstrapTokenFromSecret). Usages
// come back in kubeadm's order (signing, authentication), unknown ones after them.
func FromSecret(s *corev1.Secret) (*token.Token, error) {
	where := "Secret " + s.Namespace + "/" + s.Name
	if s.Type != bootstrapapi.SecretTypeBootstrapToken {
		return nil, fmt.Errorf("%s: %w: type %q, want %q", where, token.ErrInvalid, s.Type, bootstrapapi.SecretTypeBootstrapToken)
	}
	id := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenIDKey)
	if want := bootstraputil.BootstrapTokenSecretName(id); id == "" || s.Name != want {
		return nil, fmt.Errorf("%s: %w: token-id %s does not match the name", where, token.ErrInvalid, token.Redact(id))
	}
	t := &token.Token{
		ID:          id,
		Secret:      secret.New(bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenSecretKey)),
		Description: bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenDescriptionKey),
		Usages:      usagesOf(s),
	}
	if exp := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenExpirationKey); exp != "" {
		e, err := time.Parse(time.RFC3339, exp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: expiration %q is not RFC3339", where, token.ErrInvalid, exp)
		}
		t.Expires = secondsUTC(e)
	}
	if g := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenExtraGroupsKey); g != "" {
		t.Groups = strings.Split(g, ",")
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return t, nil
}

// usagesOf returns the usages a Secret enables, known ones in kubeadm's order.
func usagesOf(s *corev1.Secret) []string {
	var usages []string
	for k, v := range s.Data {
		if u, ok := strings.CutPrefix(k, bootstrapapi.BootstrapTokenUsagePrefix); ok && string(v) == "true" {
			usages = append(usages, u)
		}
	}
	rank := func(u string) int {
		if i := slices.Index(bootstrapapi.KnownTokenUsages, u); i >= 0 {
			return i
		}
		return len(bootstrapapi.KnownTokenUsages)
	}
	slices.SortFunc(usages, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	return usages
}

// Create stores t as its Secret, or updates the Secret when it differs; an identical Secret is
// left untouched.
func Create(ctx context.Context, client kubernetes.Interface, t *token.Token) error {
	want := ToSecret(t)
	secrets := client.CoreV1().Secrets(want.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		have, err := secrets.Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = secrets.Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		if have.Type == want.Type && maps.EqualFunc(have.Data, want.Data, slices.Equal) {
			return nil
		}
		update := want.DeepCopy()
		update.ResourceVersion = have.ResourceVersion
		update.Labels, update.Annotations = have.Labels, have.Annotations
		_, err = secrets.Update(ctx, update, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("create Secret %s/%s: %w", want.Namespace, want.Name, err)
	}
	return nil
}

// List returns the bootstrap tokens stored in kube-system, sorted by ID. Secrets of the
// bootstrap-token type that are not valid tokens are skipped, as the API server ignores them.
func List(ctx context.Context, client kubernetes.Interface) ([]*token.Token, error) {
	selector := fields.OneTermEqualSelector("type", string(bootstrapapi.SecretTypeBootstrapToken)).String()
	list, err := client.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{FieldSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list bootstrap token Secrets: %w", err)
	}
	var tokens []*token.Token
	for i := range list.Items {
		s := &list.Items[i]
		if s.Type != bootstrapapi.SecretTypeBootstrapToken {
			continue // the field selector is advisory for fakes and older servers
		}
		if t, err := FromSecret(s); err == nil {
			tokens = append(tokens, t)
		}
	}
	slices.SortFunc(tokens, func(a, b *token.Token) int { return strings.Compare(a.ID, b.ID) })
	return tokens, nil
}
