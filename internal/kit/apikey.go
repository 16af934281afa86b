package kit

import (
	"fmt"

	"github.com/latchid/latch/internal/model"
)

// KeyLabel names an API key in audit messages.
func KeyLabel(k *model.APIKey) string {
	if k.Name != "" {
		return fmt.Sprintf("[%s] (%s)", k.Name, k.ID)
	}
	return "(" + k.ID + ")"
}
