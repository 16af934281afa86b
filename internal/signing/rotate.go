package signing

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// KeyHolders re-points a tenant's or an application's key reference in the
// caller's transaction; tenancy implements it (signing cannot import what
// imports it).
type KeyHolders interface {
	ReplaceSigningKeyIn(ctx context.Context, tx *store.Tx, actor kit.Actor, kind, id, path, keyID string) error
}

// ErrVerifyOnly: a key without a private key cannot be rotated (its
// successor is imported instead).
var ErrVerifyOnly = model.GeneralError("[VerifyOnlyKey]", "This key has no private key: it only verifies. Import its successor instead.")

// Rotate generates a key like oldID's (same algorithm, length and issuer)
// and, in the one transaction that stores it, names it instead of the old
// one in every tenant and application setting, each change audited as a
// PATCH would be: either every holder moves or none does. The old key stays,
// published in the JWKS, so tokens it signed still verify. References it
// cannot change (in entity types, or in lists) are returned, for the
// operator to change by hand.
func (s *Service) Rotate(ctx context.Context, actor kit.Actor, holders KeyHolders, oldID string) (*model.Key, []KeyUse, error) {
	old, err := s.Key(ctx, oldID)
	if err != nil {
		return nil, nil, err
	}
	if old.HasPrivateKey != nil && !*old.HasPrivateKey {
		return nil, nil, ErrVerifyOnly
	}
	name := fmt.Sprintf("%s (rotated %s)", old.Name, s.clock.Now().UTC().Format("2006-01-02 15:04:05"))
	if len(name) > 191 {
		name = name[len(name)-191:]
	}
	length := 0
	if old.Type == model.KeyTypeRSA {
		length = old.Length
	}
	id := uuid.NewString()
	serial, _ := uuid.Parse(id)
	// The slow part (an RSA 4096 key takes seconds) before the transaction.
	m, err := keys.Generate(keys.GenerateRequest{Algorithm: old.Algorithm, Length: length, Issuer: old.Issuer,
		Serial: serial[:], Now: s.clock.Now()})
	if err != nil {
		return nil, nil, err
	}
	row := s.signingKeyRow(id, name, m)
	out := publicSigningKey(row)
	var skipped []KeyUse
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		skipped = skipped[:0]
		if err := s.checkKeyFree(ctx, tx, id, name, m.Kid); err != nil {
			return err
		}
		if err := tx.InsertSigningKey(ctx, row); err != nil {
			return signingKeyWriteError(err)
		}
		if err := s.changed(ctx, tx, actor, audit.Change{Message: "Rotated signing key " + signingKeyLabel(old.Name, old.ID) +
			" to " + signingKeyLabel(name, id), TargetID: id, New: out, Data: map[string]any{"from": old.ID}}); err != nil {
			return err
		}
		uses, err := keyUses(ctx, tx, old.ID)
		if err != nil {
			return err
		}
		for _, u := range uses {
			if strings.ContainsAny(u.Path, "[]") || (u.Kind != "tenant" && u.Kind != "application") {
				skipped = append(skipped, u)
				continue
			}
			if err := holders.ReplaceSigningKeyIn(ctx, tx, actor, u.Kind, u.ID, u.Path, id); err != nil {
				return fmt.Errorf("rotate signing key: %s %s: %w", u.Kind, u.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.Cache.Refresh(ctx)
	return out, skipped, nil
}
