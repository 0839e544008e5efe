package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func configMap(data string, ann map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "job", Annotations: ann},
		Data:       map[string]string{"k": data},
	}
}

// A content name changes exactly when the object does: not with the
// entry-path annotation, not when the object is held as unstructured (as
// patched objects are).
func TestContentName(t *testing.T) {
	a, err := ContentName("job", configMap("1", map[string]string{AnnotationPath: "training.job"}))
	require.NoError(t, err)
	assert.Regexp(t, `^job-[0-9a-f]{8}$`, a)
	b, err := ContentName("job", configMap("1", nil))
	require.NoError(t, err)
	assert.Equal(t, a, b, "the entry path is no part of the content")

	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(configMap("1", nil))
	require.NoError(t, err)
	u, err := ContentName("job", &unstructured.Unstructured{Object: m})
	require.NoError(t, err)
	assert.Equal(t, a, u)

	c, err := ContentName("job", configMap("2", nil))
	require.NoError(t, err)
	assert.NotEqual(t, a, c, "a changed object gets a new name")
}

// Objects whose origin asks for it are renamed once rendering is done;
// the others keep their names.
func TestNameByContent(t *testing.T) {
	s := NewSet()
	require.Nil(t, s.Add(configMap("1", nil), Origin{Path: "training.job", ContentNamed: true}))
	other := configMap("1", nil)
	other.Name = "plain"
	require.Nil(t, s.Add(other, Origin{Path: "x"}))
	require.NoError(t, nameByContent(s))
	want, err := ContentName("job", configMap("1", nil))
	require.NoError(t, err)
	var names []string
	for _, it := range s.Items() {
		names = append(names, it.Object.GetName())
	}
	assert.ElementsMatch(t, []string{want, "plain"}, names)
	assert.Equal(t, 2, s.Len())
}
