package s3

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Accounts. The credentials of the configuration (Config.Credentials) are
// the root accounts: fixed, and allowed everything. Further accounts are
// added, changed and removed at run time through the admin API
// (admin.go) and kept in Config.UsersFile. Each has a role:
//
//   - admin: allowed everything, like a root account, including the
//     admin API;
//   - userplus: may create buckets, which it then owns;
//   - user: may not create buckets.
//
// An account that is not root or admin may do to a bucket, and to the
// objects in it, what the bucket's owner is allowed, if it owns the
// bucket, or what the bucket's policy and ACLs grant it (access.go). It
// lists only the buckets it owns. This is how several tenants share one
// cache without reading each other's values.
//
// The role names and the admin API are those of the versitygw gateway, so
// its `versitygw admin` tool manages gpucache's accounts unchanged.

const (
	roleAdmin    = "admin"
	roleUser     = "user"
	roleUserPlus = "userplus"
	// roleRoot marks the configured credentials; it is never stored.
	roleRoot = "root"
)

func validRole(r string) bool { return r == roleAdmin || r == roleUser || r == roleUserPlus }

// account is one run-time account, as the admin API sends it (XML) and
// as the users file keeps it (JSON).
type account struct {
	Access    string `xml:"Access" json:"access"`
	Secret    string `xml:"Secret,omitempty" json:"secret"`
	Role      string `xml:"Role" json:"role"`
	UserID    int    `xml:"UserID" json:"userID"`
	GroupID   int    `xml:"GroupID" json:"groupID"`
	ProjectID int    `xml:"ProjectID" json:"projectID"`
}

// usersFile is the document of Config.UsersFile.
type usersFile struct {
	Accounts []account `json:"accounts"`
}

// userStore holds the run-time accounts. Reads take the read lock;
// changes are written to the file (when there is one) before they take
// effect, so an account the admin API acknowledged survives a restart.
type userStore struct {
	path string // "" keeps accounts in memory only

	mu       sync.RWMutex
	accounts map[string]account
	saveMu   sync.Mutex // orders file writes
}

// loadUsers reads the users file; a missing file is an empty store.
func loadUsers(path string) (*userStore, error) {
	us := &userStore{path: path, accounts: map[string]account{}}
	if path == "" {
		return us, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return us, nil
	}
	if err != nil {
		return nil, fmt.Errorf("s3: cannot read the users file: %w", err)
	}
	var doc usersFile
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("s3: users file %s: %w", path, err)
	}
	for _, a := range doc.Accounts {
		if a.Access == "" || a.Secret == "" || !validRole(a.Role) {
			return nil, fmt.Errorf("s3: users file %s: invalid account %q", path, a.Access)
		}
		us.accounts[a.Access] = a
	}
	return us, nil
}

// get returns the account of an access key.
func (us *userStore) get(access string) (account, bool) {
	us.mu.RLock()
	a, ok := us.accounts[access]
	us.mu.RUnlock()
	return a, ok
}

// empty reports whether there are no run-time accounts.
func (us *userStore) empty() bool {
	us.mu.RLock()
	n := len(us.accounts)
	us.mu.RUnlock()
	return n == 0
}

// list returns the accounts sorted by access key.
func (us *userStore) list() []account {
	us.mu.RLock()
	out := make([]account, 0, len(us.accounts))
	for _, a := range us.accounts {
		out = append(out, a)
	}
	us.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Access < out[j].Access })
	return out
}

// update applies fn to a copy of the accounts and, when fn succeeds,
// saves the result and makes it current.
func (us *userStore) update(fn func(m map[string]account) error) error {
	us.saveMu.Lock()
	defer us.saveMu.Unlock()
	us.mu.RLock()
	next := make(map[string]account, len(us.accounts)+1)
	for k, a := range us.accounts {
		next[k] = a
	}
	us.mu.RUnlock()
	if err := fn(next); err != nil {
		return err
	}
	if err := us.save(next); err != nil {
		return err
	}
	us.mu.Lock()
	us.accounts = next
	us.mu.Unlock()
	return nil
}

// save writes the accounts to the users file: a new file, synced, then
// renamed over the old one, so a crash leaves one or the other whole.
func (us *userStore) save(m map[string]account) error {
	if us.path == "" {
		return nil
	}
	doc := usersFile{Accounts: make([]account, 0, len(m))}
	for _, a := range m {
		doc.Accounts = append(doc.Accounts, a)
	}
	sort.Slice(doc.Accounts, func(i, j int) bool { return doc.Accounts[i].Access < doc.Accounts[j].Access })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(us.path)
	f, err := os.CreateTemp(dir, ".users-*")
	if err != nil {
		return fmt.Errorf("s3: cannot write the users file: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, us.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("s3: cannot write the users file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// rootSecret returns the secret of a configured credential.
func (s *Server) rootSecret(access string) (string, bool) {
	sec, ok := s.verifier.Credentials[access]
	return sec, ok
}

// lookupSecret finds the secret of a run-time account (the verifier's
// fallback after the configured credentials).
func (s *Server) lookupSecret(access string) (string, bool) {
	a, ok := s.users.get(access)
	return a.Secret, ok
}

// secretOf returns the secret of any account, root or run-time.
func (s *Server) secretOf(access string) (string, bool) {
	if sec, ok := s.rootSecret(access); ok {
		return sec, true
	}
	return s.lookupSecret(access)
}

// roleOf returns the role of an access key: roleRoot for a configured
// credential, the account's role otherwise, "" for an unknown key.
func (s *Server) roleOf(access string) string {
	if _, ok := s.rootSecret(access); ok {
		return roleRoot
	}
	if a, ok := s.users.get(access); ok {
		return a.Role
	}
	return ""
}

// knownAccount reports whether access names a root or run-time account.
func (s *Server) knownAccount(access string) bool { return s.roleOf(access) != "" }

// privileged reports whether the request is signed by a root or admin
// account, which policies and ACLs do not restrict.
func (s *Server) privileged(req *request) bool {
	ak := requester(req)
	if ak == "" {
		return false
	}
	r := s.roleOf(ak)
	return r == roleRoot || r == roleAdmin
}

// validAccessKey bounds what an access key may contain: it appears in
// credential scopes (no '/') and in ACL documents.
func validAccessKey(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	return !strings.ContainsAny(k, "/ \t\r\n:")
}
