package testbroker

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// StartCluster starts n nodes of the test's own (see StartNode), sharing
// one Erlang cookie, and joins them into one RabbitMQ cluster: every node
// after the first joins the first. A stopped node rejoins the cluster when
// it is started again. Allow about 15 s per node.
func StartCluster(t testing.TB, n int) []*Node {
	t.Helper()
	cookie := randomCookie()
	nodes := make([]*Node, n)
	for i := range nodes {
		nodes[i] = startNode(t, cookie)
	}
	for _, m := range nodes[1:] {
		m.Ctl("stop_app")
		m.Ctl("join_cluster", nodes[0].Name)
		m.Ctl("start_app")
	}
	testutil.WaitFor(t, "every node in the cluster", 60*time.Second, func() bool {
		out, err := nodes[0].ctl(30*time.Second, "cluster_status", "--formatter", "json")
		if err != nil {
			return false
		}
		for _, m := range nodes {
			if !containsRunning(out, m.Name) {
				return false
			}
		}
		return true
	})
	return nodes
}

// containsRunning reports whether rabbitmqctl cluster_status's JSON lists
// node among the running nodes.
func containsRunning(statusJSON, node string) bool {
	var st struct {
		Running []string `json:"running_nodes"`
	}
	if err := json.Unmarshal([]byte(statusJSON), &st); err != nil {
		return false
	}
	for _, r := range st.Running {
		if r == node {
			return true
		}
	}
	return false
}

// Kill kills the node at once (SIGKILL to all its processes), as a
// crashed host or a pulled cable would end it; Start starts it again.
func (n *Node) Kill() {
	n.t.Helper()
	n.kill()
}
