package s3

import (
	"errors"

	"github.com/gpucache/gpucache/engine"
)

// Bucket sub-resource documents (policy, CORS, website, ownership
// controls, ACL, object-lock configuration, ...) are kept as values under
// "b/<name>" in the bucket's upload keyspace, next to its tags
// (bucketTagsKey), so deleting the bucket drops them with it.

// bucketConfigKey is the key of the bucket sub-resource name.
func bucketConfigKey(name string) []byte { return []byte("b/" + name) }

// getBucketConfig returns the stored document of the bucket sub-resource
// name; ok is false when none is set.
func (s *Server) getBucketConfig(bucket, name string) (doc []byte, ok bool, err error) {
	v, err := s.eng.Get(uploadKS(bucket), bucketConfigKey(name))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer v.Release()
	doc, err = v.AppendTo(nil)
	if err != nil {
		return nil, false, err
	}
	return doc, true, nil
}

// putBucketConfig stores doc as the bucket sub-resource name, durably.
func (s *Server) putBucketConfig(bucket, name string, doc []byte) error {
	if doc == nil {
		doc = []byte{}
	}
	if _, err := s.eng.PutBytes(uploadKS(bucket), bucketConfigKey(name), doc, engine.PutOptions{}); err != nil {
		return err
	}
	return s.eng.Sync()
}

// deleteBucketConfig removes the bucket sub-resource name, durably. It is
// not an error when none is set.
func (s *Server) deleteBucketConfig(bucket, name string) error {
	if _, err := s.eng.Delete(uploadKS(bucket), [][]byte{bucketConfigKey(name)}); err != nil {
		return err
	}
	return s.eng.Sync()
}
