package api

// table is the whole /api surface: every route with what it demands. A route
// without an access rule does not start (New panics), and a test checks that
// every non-anonymous family is one FusionAuth's key permissions can name.
func (s *Server) table() []Route {
	return []Route{
		// Operations.
		{Pattern: "GET /api/status", Access: Anonymous, Handler: s.status},
		{Pattern: "GET /api/health", Access: Anonymous, Handler: s.health},
		{Pattern: "GET /api/system/version", Access: Endpoint, GlobalOnly: true, Handler: s.version},
	}
}
