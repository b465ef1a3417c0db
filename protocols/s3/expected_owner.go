package s3

// checkExpectedOwners applies x-amz-expected-bucket-owner (and, for
// copies, x-amz-source-expected-bucket-owner): a request that names an
// account other than the bucket's owner is refused with AccessDenied
// before anything is read or changed. Every bucket belongs to the
// account of the credential in use (see Server.owner).
func (s *Server) checkExpectedOwners(req *request) error {
	want := s.owner(req).ID
	for _, name := range [...]string{"X-Amz-Expected-Bucket-Owner", "X-Amz-Source-Expected-Bucket-Owner"} {
		if vs, ok := req.r.Header[name]; ok && vs[0] != want {
			return errAccessDenied
		}
	}
	return nil
}
