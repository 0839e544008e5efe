package compiler

import "testing"

// TestLooksLikeCredential holds the heuristic to names and values both
// ways: credentials are caught, and the everyday names that merely contain
// a credential word (max_tokens, tokenizer, TOKEN_FILE, --secret-name) are
// not, or every LLM spec would need @kiln(notsecret).
func TestLooksLikeCredential(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"DB_PASSWORD", "hunter22", true},
		{"dbPassword", "hunter22", true},
		{"api-key", "abc", true},
		{"OPENAI_API_KEY", "abc", true},
		{"client_secret", "abc", true},
		{"WANDB_TOKEN", "abc", true},
		{"", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", true},
		{"X", "AKIAABCDEFGHIJKLMNOP", true},
		{"CONFIG", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", true},
		{"MAX_TOKENS", "512", false},
		{"max_tokens", "many", false},
		{"tokenizer", "bpe", false},
		{"TOKEN_FILE", "/var/run/token", false},
		{"secret-name", "hf", false},
		{"AWS_ACCESS_KEY_ID", "minio", false},
		{"PASSWORD", "", false},
		{"PASSWORD", "{{inputs.parameters.pw}}", false},
		{"PASSWORD", "$(DB_PASSWORD)", false},
		{"use_token", "true", false},
		{"MODEL", "bert-base", false},
	} {
		if got := looksLikeCredential(tc.name, tc.value) != ""; got != tc.want {
			t.Errorf("looksLikeCredential(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}
