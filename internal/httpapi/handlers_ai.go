package httpapi

import (
	"context"
	"net/http"

	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

// suggestPrice suggests a price for a member's item from comparable
// listings of the shared market: quartiles of their prices, not a language
// model (see marketplace.SuggestPrice). It is an AI-class feature all the
// same, budgeted by suggest_price's row of app.ai_rate_limits_config, so
// the order is: the item (404 for another tenant's, spending nothing),
// then the budget, then the statistics.
func (s *Server) suggestPrice(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "itemID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.PriceSuggestion, error) {
		item, err := m.GetItem(ctx, q, id[0], id[1])
		if err != nil {
			return m.PriceSuggestion{}, err
		}
		if err := s.aiBudget(w, r, q, m.FeatureSuggestPrice); err != nil {
			return m.PriceSuggestion{}, err
		}
		return m.SuggestPrice(ctx, q, item)
	})
}
