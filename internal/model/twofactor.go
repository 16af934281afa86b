package model

// A user's two-factor methods (FusionAuth's UserTwoFactorConfiguration and
// TwoFactorMethod), typed with a raw bag like the user that holds them.
//
// The user API checks only a method's id, method and secret (secret or
// secretBase32Encoded) before storing it; every other member is stored as
// the client sent it. Reading a stored
// method must therefore never fail: a member of a type the struct does not
// take is left at its zero value (a TOTP setting then takes its default) and
// rides in the bag, written back exactly as stored.

// UserTwoFactor is a user's twoFactor member: its methods. recoveryCodes and
// anything else stay in the bag (Latch keeps recovery codes hashed, as
// one-time codes, never in the user).
type UserTwoFactor struct {
	// Methods are written even when empty (a user whose last method went
	// keeps "methods":[]).
	Methods []TwoFactorMethod `json:"methods"`

	Extra Extra `json:"-"`
}

// TwoFactorMethod is FusionAuth's TwoFactorMethod. Every member is omitted
// when empty: a method is stored with only the members it was given.
type TwoFactorMethod struct {
	ID            string                      `json:"id,omitempty"`
	Method        string                      `json:"method,omitempty"`
	Name          string                      `json:"name,omitempty"`
	Email         string                      `json:"email,omitempty"`
	MobilePhone   string                      `json:"mobilePhone,omitempty"`
	Authenticator *AuthenticatorConfiguration `json:"authenticator,omitempty"`
	LastUsed      bool                        `json:"lastUsed,omitempty"`
	// Secret is never stored in the user (it is sealed with the user's
	// secrets) and never answered (View).
	Secret string `json:"secret,omitempty"`

	Extra Extra `json:"-"`
}

// AuthenticatorConfiguration is FusionAuth's AuthenticatorConfiguration: a
// TOTP method's algorithm (HmacSHA1, HmacSHA256, HmacSHA512), code length
// and time step in seconds. Zero is unset.
type AuthenticatorConfiguration struct {
	Algorithm  string `json:"algorithm,omitempty"`
	CodeLength int    `json:"codeLength,omitempty"`
	TimeStep   int    `json:"timeStep,omitempty"`
}

// DefaultAuthenticator is what FusionAuth shows of a method enabled with the
// default TOTP settings.
func DefaultAuthenticator() *AuthenticatorConfiguration {
	return &AuthenticatorConfiguration{Algorithm: "HmacSHA1", CodeLength: 6, TimeStep: 30}
}

type userTwoFactorShape UserTwoFactor
type twoFactorMethodShape TwoFactorMethod

// JSONShape gives model.FieldsOf the members of a user's twoFactor.
func (UserTwoFactor) JSONShape() any { return userTwoFactorShape{} }

// JSONShape gives model.FieldsOf the members of a two-factor method.
func (TwoFactorMethod) JSONShape() any { return twoFactorMethodShape{} }

// TwoFactorOf reads the twoFactor member of a user's document tree (absent,
// null or not an object: no methods). The tree is kept by the bag: the
// caller must not modify it afterwards.
func TwoFactorOf(userDoc map[string]any) (UserTwoFactor, error) {
	var tf UserTwoFactor
	sent, ok := userDoc["twoFactor"].(map[string]any)
	if !ok {
		return tf, nil
	}
	return tf, tf.UnmarshalTree(sent)
}

// UnmarshalTree reads a twoFactor document tree, which the bag keeps.
func (t *UserTwoFactor) UnmarshalTree(sent map[string]any) error {
	*t = UserTwoFactor{}
	if list, ok := sent["methods"].([]any); ok {
		for _, e := range list {
			// Only objects are methods; the user API stores nothing else
			// there, and a method list that held more is read without it.
			o, ok := e.(map[string]any)
			if !ok {
				continue
			}
			var m TwoFactorMethod
			if err := m.UnmarshalTree(o); err != nil {
				return err
			}
			t.Methods = append(t.Methods, m)
		}
	}
	decoded, err := t.tree()
	t.Extra = SplitExtra(sent, decoded)
	return err
}

// UnmarshalJSON reads a twoFactor object; see UnmarshalTree.
func (t *UserTwoFactor) UnmarshalJSON(data []byte) error {
	return unmarshalObject(data, (*userTwoFactorShape)(t), t.UnmarshalTree)
}

func (t *UserTwoFactor) tree() (map[string]any, error) {
	methods := make([]any, len(t.Methods))
	for i := range t.Methods {
		m, err := t.Methods[i].Tree()
		if err != nil {
			return nil, err
		}
		methods[i] = m
	}
	return map[string]any{"methods": methods}, nil
}

// MarshalJSON writes the methods and the raw bag.
func (t UserTwoFactor) MarshalJSON() ([]byte, error) { return EncodeWithExtra(t.Extra, t.tree) }

// Tree is the twoFactor member as a document tree (for storage).
func (t *UserTwoFactor) Tree() (map[string]any, error) { return treeWithExtra(t.Extra, t.tree) }

// UnmarshalTree reads a method's document tree, which the bag keeps.
func (m *TwoFactorMethod) UnmarshalTree(sent map[string]any) error {
	*m = TwoFactorMethod{}
	for k, v := range sent {
		m.setMember(k, v)
	}
	decoded, err := m.tree()
	m.Extra = SplitExtra(sent, decoded)
	return err
}

// UnmarshalJSON reads a method; see UnmarshalTree.
func (m *TwoFactorMethod) UnmarshalJSON(data []byte) error {
	return unmarshalObject(data, (*twoFactorMethodShape)(m), m.UnmarshalTree)
}

// setMember sets a typed field from a member of its type; anything else
// leaves the field zero (the setters do not write on a mismatch), the
// member staying in the bag.
func (m *TwoFactorMethod) setMember(k string, v any) {
	switch k {
	case "id":
		setString(&m.ID, v)
	case "method":
		setString(&m.Method, v)
	case "name":
		setString(&m.Name, v)
	case "email":
		setString(&m.Email, v)
	case "mobilePhone":
		setString(&m.MobilePhone, v)
	case "secret":
		setString(&m.Secret, v)
	case "lastUsed":
		setBool(&m.LastUsed, v)
	case "authenticator":
		if o, ok := v.(map[string]any); ok {
			m.Authenticator = authenticatorOf(o)
		}
	}
}

func authenticatorOf(o map[string]any) *AuthenticatorConfiguration {
	a := &AuthenticatorConfiguration{}
	setString(&a.Algorithm, o["algorithm"])
	a.CodeLength = smallInt(o["codeLength"])
	a.TimeStep = smallInt(o["timeStep"])
	return a
}

// smallInt is an integer member as an int, 0 for anything else (a TOTP
// setting out of range takes its default anyway).
func smallInt(v any) int {
	var n int64
	if !setInt(&n, v) || n != int64(int32(n)) {
		return 0
	}
	return int(n)
}

func (m *TwoFactorMethod) tree() (map[string]any, error) {
	o := make(treeOut, 8)
	for _, s := range []struct{ k, v string }{
		{"id", m.ID}, {"method", m.Method}, {"name", m.Name}, {"email", m.Email},
		{"mobilePhone", m.MobilePhone}, {"secret", m.Secret},
	} {
		if err := o.str(s.k, s.v, true); err != nil {
			return nil, err
		}
	}
	if m.LastUsed {
		o["lastUsed"] = true
	}
	if a := m.Authenticator; a != nil {
		t := make(treeOut, 3)
		if err := t.str("algorithm", a.Algorithm, true); err != nil {
			return nil, err
		}
		t.num("codeLength", int64(a.CodeLength), true)
		t.num("timeStep", int64(a.TimeStep), true)
		o["authenticator"] = map[string]any(t)
	}
	return o, nil
}

// MarshalJSON writes the typed fields and the raw bag.
func (m TwoFactorMethod) MarshalJSON() ([]byte, error) { return EncodeWithExtra(m.Extra, m.tree) }

// Tree is the method as a document tree.
func (m *TwoFactorMethod) Tree() (map[string]any, error) { return treeWithExtra(m.Extra, m.tree) }

// View is the method as answers and events show it: without its secret,
// however it was stored (secretBase32Encoded is the secret too: releases
// that did not read it kept it in the bag).
func (m *TwoFactorMethod) View() TwoFactorMethod {
	v := *m
	v.Secret = ""
	v.Extra = m.Extra.Without("secret", "secretBase32Encoded")
	return v
}
