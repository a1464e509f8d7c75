//! What citizens and staff read from the desk and the worker around it: the labels of the
//! reasons a conversation went to staff, and the replies to "stop" and "mulai". Edit wording
//! here.

/// The reply to a citizen who wrote "stop".
pub const STOPPED: &str = "Baik kak, balasan otomatis untuk kakak kami hentikan. Tulis \"mulai\" \
                           kapan saja untuk mengaktifkannya lagi.";

/// The reply to a citizen who wrote "mulai" after "stop".
pub const STARTED: &str = "Siap kak, balasan otomatis aktif lagi. Silakan sampaikan pertanyaan \
                           atau laporan kakak.";

/// The reasons a conversation was handed to staff, as people read them.
pub fn reason_label(rule: &str) -> &'static str {
    match rule {
        "asks_for_person" | "net_asks_for_person" => "warga minta dilayani petugas",
        "own_case" | "net_own_case" => "urusan pribadi warga (perlu cek data)",
        "sensitive" | "net_sensitive" => "isu sensitif, keluhan keras atau kabar yang perlu dicek",
        "kb_expired" => "jawaban di basis pengetahuan sudah kedaluwarsa",
        "kb_unsure" | "model_unsure" => "bot tidak yakin: periksa dan jawab",
        "no_kb_match" | "model_handoff" => "perlu dijawab petugas (di luar jawaban otomatis)",
        "outside_remit" => "di luar kewenangan Pemkot: arahkan warga ke instansi yang berwenang",
        "emergency_critical" | "emergency_hazard_now" | "model_emergency" | "net_emergency" => {
            "DARURAT: sudah diarahkan ke 112"
        }
        "location_missing" => "laporan tanpa lokasi yang jelas setelah dua kali ditanya",
        "budget_essential" => {
            "anggaran platform bulan ini habis: jawaban otomatis ditahan, jawab bila perlu"
        }
        "ticket_rejected" => "instansi menyatakan laporan bukan wewenangnya: pilih instansi lain",
        "ticket_overdue" => "laporan melewati batas waktu: tegur instansinya",
        "ticket_disputed" => "warga bilang laporan yang selesai belum beres: cek, buka kembali",
        "ticket_warning_letter" => {
            "laporan belum diterima instansi 10 hari kerja: siapkan surat teguran"
        }
        _ => "perlu ditangani petugas",
    }
}
