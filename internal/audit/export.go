package audit

import (
	"archive/zip"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/internal/model"
)

// csvHeader is the export's first row.
var csvHeader = []string{"Id", "Insert Instant", "Insert User", "Message", "Reason", "Actor Type", "Actor Id",
	"Target Id", "IP Address", "Severity", "Old Value", "New Value", "Data"}

// WriteCSV writes entries as CSV, instants as RFC 3339 in loc. A cell that
// a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
// apostrophe: messages carry names that users chose.
func WriteCSV(w io.Writer, logs []*model.AuditLog, loc *time.Location) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, a := range logs {
		row := []string{strconv.FormatInt(a.ID, 10), time.UnixMilli(a.InsertInstant).In(loc).Format(time.RFC3339),
			a.InsertUser, a.Message, a.Reason, a.ActorType, a.ActorID, a.TargetID, a.IPAddress, a.Severity,
			string(a.OldValue), string(a.NewValue), string(a.Data)}
		for i, v := range row {
			row[i] = defuse(v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ExportFileName is the CSV's name inside FusionAuth's export zip.
const ExportFileName = "audit_log.csv"

// WriteZip writes the export as FusionAuth does: a zip holding one CSV,
// dated by its newest entry.
func WriteZip(w io.Writer, logs []*model.AuditLog, loc *time.Location) error {
	var newest int64
	for _, a := range logs {
		newest = max(newest, a.InsertInstant)
	}
	zw := zip.NewWriter(w)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: ExportFileName, Method: zip.Deflate, Modified: time.UnixMilli(newest).UTC()})
	if err != nil {
		return err
	}
	if err := WriteCSV(f, logs, loc); err != nil {
		return err
	}
	return zw.Close()
}
