package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
)

// defaultRegion is the region of a bucket when neither the spec nor the
// AWS configuration names one.
const defaultRegion = "us-east-1"

// S3 is a bucket in S3 or an S3-compatible store.
type S3 struct {
	bucket string
	client *s3.Client
}

// NewS3 opens bucket, where repo (the spec's artifacts.s3, nil when the
// spec does not describe the bucket) says it is: its endpoint, unless it
// is AWS's own (a MinIO host:port, over plain HTTP when insecure, with
// path-style addressing), and its region. Credentials come from the
// standard chain: environment, shared config and credentials files, SSO,
// web identity, the instance's role.
func NewS3(ctx context.Context, bucket string, repo *ir.S3Repository) (*S3, error) {
	var opts []func(*config.LoadOptions) error
	if repo != nil && repo.Region != "" {
		opts = append(opts, config.WithRegion(repo.Region))
	}
	// The SDK's own warnings (an instance without IMDSv2) are not
	// kiln's output; what fails is in the error.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: AWS configuration: %w", bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	endpoint := ""
	if repo != nil {
		endpoint = s3Endpoint(repo)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	return &S3{bucket: bucket, client: client}, nil
}

// s3Endpoint is the endpoint URL of an S3-compatible store, "" for AWS
// S3 itself (the SDK then picks the region's endpoint).
func s3Endpoint(repo *ir.S3Repository) string {
	ep := strings.TrimSpace(repo.Endpoint)
	if ep == "" {
		return ""
	}
	if u, err := url.Parse(ep); err == nil && u.Scheme != "" && u.Host != "" {
		return ep
	}
	host := ep
	if h, _, ok := strings.Cut(ep, ":"); ok {
		host = h
	}
	if host == "s3.amazonaws.com" || strings.HasSuffix(host, ".amazonaws.com") {
		return ""
	}
	if repo.Insecure {
		return "http://" + ep
	}
	return "https://" + ep
}

// Get implements lineage.Store.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s.err(key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, s.err(key, err)
	}
	return b, nil
}

// List implements lineage.Store.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// err names the bucket and key, and is fs.ErrNotExist for a key the
// bucket does not have.
func (s *S3) err(key string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return fmt.Errorf("s3://%s/%s: %w", s.bucket, key, fs.ErrNotExist)
	}
	if strings.Contains(err.Error(), "get credentials") {
		return fmt.Errorf("reading s3://%s/%s: no AWS credentials (kiln looks where the AWS CLI does: AWS_PROFILE or AWS_ACCESS_KEY_ID, the shared files, SSO, the instance's role), or pass --records DIR: %w", s.bucket, key, err)
	}
	return fmt.Errorf("reading s3://%s/%s: %w", s.bucket, key, err)
}

var _ lineage.Store = (*S3)(nil)
