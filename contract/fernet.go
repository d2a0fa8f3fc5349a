package contract

// minFernetToken is the length below which a string is never a Fernet
// token: the shortest token (version, timestamp, IV, one cipher block,
// HMAC) is 100 characters of base64url; 50 leaves room for doubt.
const minFernetToken = 50

// MayBeFernetToken is the one test of whether a request's string value may
// be a Fernet token and must be tried against the virtual host's keys:
// long enough, and starting with "g" (every token starts with the version
// byte 0x80, "gAAAA" in base64url). A string for which it is false is never
// decrypted.
func MayBeFernetToken[S ~string | ~[]byte](s S) bool {
	return len(s) >= minFernetToken && s[0] == 'g'
}
