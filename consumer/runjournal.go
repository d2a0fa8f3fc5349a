package consumer

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// runJournal journals one run of a request: its request record once, at
// the first progress update or when the request is answered, whichever
// comes first (so that the log server shows a long action's progress while
// it runs), then a progress record per update passed on.
//
// A run that reported progress and was then requeued (a forced stop) or
// published again (retry later) has journaled its request; the next run
// journals it again, marked Repeat (the delivery is redelivered, or its
// attempt is past the first), and the shipper counts the log server's
// refusal of the duplicate as "already there".
type runJournal struct {
	c       *Consumer
	request logship.Record
	// secrets are the request's decrypted values, masked in the records.
	secrets []string

	mu      sync.Mutex
	written bool
	// last is the time of the last progress record: each is later, as the
	// log server tells a request's updates apart by their time.
	last time.Time
}

// newRunJournal prepares the journal of one run of a request.
func (c *Consumer) newRunJournal(in incoming, req checked) *runJournal {
	request := c.requestRecord(in.exchange, in.correlationID, req.payload)
	request.Repeat = in.redelivered || in.attempt > 1
	return &runJournal{c: c, secrets: secretsOf(req.obj, req.fields), request: request}
}

// requestRecord is the log server's record of a request that came through
// exchange, payload as journaled.
func (c *Consumer) requestRecord(exchange, correlationID string, payload json.RawMessage) logship.Record {
	return logship.Record{
		Kind: logship.KindRequest, CorrelationID: correlationID, RequestPayload: payload,
		VirtualHostName: c.vh.Name, QueueName: c.vh.Queue, RabbitMQUsername: c.cfg.Server.Username,
		Hostname: c.hostname, ExchangeName: exchange,
	}
}

// requestOnce journals the request record unless this run did already.
func (j *runJournal) requestOnce() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.written {
		return
	}
	j.written = true
	j.c.journal(j.request)
}

// progress journals a progress update after the request record, its
// decrypted values masked, and returns it masked (for the log).
func (j *runJournal) progress(p wire.Progress) wire.Progress {
	shown := j.mask(p)
	j.requestOnce()
	j.mu.Lock()
	at := time.Now().UTC().Truncate(time.Microsecond)
	if !at.After(j.last) {
		at = j.last.Add(time.Microsecond)
	}
	j.last = at
	j.mu.Unlock()
	j.c.journal(logship.Record{Kind: logship.KindProgress, Time: at, CorrelationID: j.request.CorrelationID,
		State: shown.State, Message: shown.Message, Percent: shown.Percent, Data: shown.Data})
	return shown
}

// mask replaces the request's decrypted values in an update by Mask, as
// in the response.
func (j *runJournal) mask(p wire.Progress) wire.Progress {
	for _, s := range j.secrets {
		p.State = strings.ReplaceAll(p.State, s, Mask)
		p.Message = strings.ReplaceAll(p.Message, s, Mask)
	}
	if len(p.Data) > 0 {
		p.Data = maskSecrets(p.Data, j.secrets)
	}
	return p
}
