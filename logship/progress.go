package logship

import "time"

// progressRetry is how long progress records are skipped once the log
// server answered that it does not take them (404, 405 at
// {base_url}/rpc-progress); then one is posted again, in case the server
// was upgraded.
const progressRetry = 10 * time.Minute

// progressOff tells whether progress records are skipped now.
func (s *Shipper) progressOff() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.progressOffUntil)
}

// progressUnsupported skips progress records for progressRetry, counts
// the one that found out, and warns the first time.
func (s *Shipper) progressUnsupported(answer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progressOffUntil = time.Now().Add(progressRetry)
	s.stats.ProgressSkipped++
	if !s.progressWarned {
		s.progressWarned = true
		s.log.Warn().Str("answer", answer).Dur("retry_after", progressRetry).
			Msg("the log server does not take progress updates (POST {base_url}/rpc-progress, an extension of the reference API): progress records are skipped; requests and responses are shipped as usual")
	}
}
