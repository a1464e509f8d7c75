//! The triage rules and the cue lists they read.
//!
//! Cue lists are plain or informal words (see [`super::cues`]); they are compiled once through the
//! analyzer, so each list reads the way citizens write.

use super::cues::{CueSet, Stems};
use super::{Candidate, Decision, Engine, Evidence, Kind};
use crate::config::Config;
use crate::knowledge::SearchResult;
use crate::language::Analyzer;

/// A person's life or safety at risk right now.
#[rustfmt::skip]
const CRITICAL: &[&str] = &[
    "tidak sadar", "tidak sadarkan diri", "pingsan", "kejang", "sesak napas", "napasnya sesak",
    "tidak bernapas", "tidak bangun", "tenggelam", "hanyut", "keli", "klelep", "terseret arus",
    "keseret arus", "terbawa arus", "terjebak", "kejebak", "terjepit", "kejepit", "tertimpa",
    "ketimpa", "kena timpa", "tertimbun", "luka parah", "terluka parah", "tergeletak",
    "kecelakaan + berdarah", "kecelakaan + luka", "kecelakaan + korban", "jatuh + tidak sadar",
    "orang di dalam", "masih di dalam", "masih ada penghuni", "ada penghuni", "ada orang + dalam",
    "anak + dalam", "unconscious", "not breathing", "trapped", "people inside", "still inside",
    "injured", "drowning", "heart attack", "serangan jantung", "overdosis", "kesetrum",
    "tersengat listrik", "ular + bayi", "ular kobra + kamar", "tidak bisa jalan", "kursi roda",
    "wheelchair", "gantung diri", "bunuh diri", "mau loncat",
];

/// Danger that becomes an emergency when it is happening now.
#[rustfmt::skip]
const HAZARD: &[&str] = &[
    "kebakaran", "terbakar", "api", "apinya", "asap hitam", "asap tebal", "fire", "smoke",
    "air masuk rumah", "banjir masuk rumah", "air naik", "air mundhak", "air masuk", "sedengkul",
    "sepinggang", "sak dengkul", "flood", "kecelakaan", "tabrakan", "accident", "longsor",
    "roboh + orang", "ambruk", "percikan api", "korsleting", "korslet", "gas bocor", "tabung gas",
    "ular kobra", "gempa", "tanggul jebol",
];

/// Words that say it is happening now.
#[rustfmt::skip]
const IMMEDIATE: &[&str] = &[
    "sekarang", "saat ini", "barusan", "masih", "cepat", "cepet", "segera", "darurat", "help",
    "urgent", "tolong", "terus naik", "belum datang", "rising", "now", "fast",
];

/// Words that say it is not happening now, or that the tweet asks about it.
#[rustfmt::skip]
const DEFUSED: &[&str] = &[
    "kemarin", "semalam", "minggu lalu", "bulan lalu", "tahun lalu", "tidak ada korban",
    "tanpa korban", "sudah padam", "sudah ditangani", "sudah surut", "simulasi", "latihan",
    "kalau ada", "jika ada", "jika terjadi", "kalau terjadi", "nomor", "berapa", "rawan",
    "langganan", "macet", "bagaimana cara", "info", "waspada", "tips", "belum ada yang",
];

/// Cues that make an emergency medical (the reply adds 119).
#[rustfmt::skip]
const MEDICAL: &[&str] = &[
    "tidak sadar", "pingsan", "kejang", "sesak", "napas", "luka", "berdarah", "kecelakaan",
    "ambulans", "jatuh", "korban", "serangan jantung", "unconscious", "injured", "breathing",
    "tergeletak",
];

/// Advertising and scams.
#[rustfmt::skip]
const SPAM: &[&str] = &[
    "bitcoin", "crypto", "kripto", "invest", "investasi + untung", "slot", "gacor", "maxwin",
    "judi", "togel", "jual followers", "followers murah", "giveaway", "pinjaman online", "pinjol",
    "cek bio", "link di bio", "link bio", "klik link", "verified badge", "claim now",
    "dm sekarang", "dm admin", "bi checking", "cair + menit", "promo", "diskon", "open order",
    "pemenang undian", "terpilih sebagai pemenang", "undian", "kerja dari rumah", "tanpa modal",
    "tidak pakai modal", "like dan share", "like share", "penghasilan + hari",
];

/// Words that insult; with nothing to act on or answer, the tweet is ignored.
#[rustfmt::skip]
const INSULT: &[&str] = &[
    "goblok", "goblog", "tolol", "bodoh", "bego", "dungu", "geblek", "ndasmu", "matamu",
    "bangsat", "jancok", "jancuk", "cok", "asu", "kampret", "taek", "tai", "babi", "bajingan",
    "brengsek", "idiot", "stupid", "otak udang",
];

/// Demands for a person, or for contact outside the thread.
#[rustfmt::skip]
const HUMAN: &[&str] = &[
    "bicara dengan petugas", "bicara dengan orang", "bicara sama petugas", "ngomong sama petugas",
    "ngobrol sama petugas", "dengan manusia", "sama manusia", "admin asli", "petugas asli",
    "orang asli", "bukan bot", "sambungkan ke petugas", "hubungi saya", "telepon saya",
    "kontak saya", "ketemu langsung", "bertemu langsung", "audiensi", "interview", "wawancara",
    "talk to someone", "speak to", "real person", "mau bicara", "minta bicara",
];

/// A citizen's own case, which only a person can look up.
#[rustfmt::skip]
const OWN_CASE: &[&str] = &[
    "status pengajuan", "nomor registrasi", "no registrasi", "no tiket", "nomor tiket",
    "kelanjutan laporan", "status laporan", "laporan saya", "pengajuan saya", "sampai mana",
    "sudah ditindaklanjuti", "ditindaklanjuti belum", "apakah saya terdaftar", "saya terdaftar",
    "dicek apakah", "yang kemarin itu", "sengketa", "korban penipuan",
];

/// Rumours, anger and opinions: a person answers those, not the knowledge base.
#[rustfmt::skip]
const SENSITIVE: &[&str] = &[
    "hoax", "hoaks", "rumor", "isu", "percuma", "kecewa", "muak", "pencitraan",
    "tanggapan resmi", "posisi resmi", "official position",
];

/// A problem that somebody must fix.
#[rustfmt::skip]
const COMPLAINT: &[&str] = &[
    "rusak", "lubang", "berlubang", "lampu + mati", "air + mati", "ac + mati", "pju + mati",
    "mati total", "mati semua", "padam", "bocor", "tersumbat", "menumpuk", "numpuk",
    "tidak diangkut", "belum diangkut", "kotor", "bau", "keruh", "liar", "curang", "pungli",
    "calo", "salah sasaran", "belum dibayar", "tidak dibayar", "belum jadi", "ambles", "amblas",
    "retak", "jebol", "ambrol", "longsor", "tumbang", "roboh", "semrawut", "macet", "gelap",
    "berisik", "salah input", "belum diterima", "belum datang", "mengemis", "telantar",
    "terlantar", "digigit", "mati mendadak", "sakit kulit", "tidak ada tindakan", "lama sekali",
    "parah", "ancur", "hancur", "kawah", "ngetem", "sumbangan", "pungutan", "wajib bayar",
    "tidak sopan", "menawarkan jasa", "naik + lipat", "reged", "mampet", "genang", "nggenang",
    "cracked", "broken", "crack", "antre + lama", "antrean + lama", "dibuang", "buang sampah",
    "angin kencang", "gentengnya", "tidak bisa lewat", "makan jalan", "tidak bisa tidur",
    "harga + naik", "menembus", "sarang", "mengganggu", "sembarangan", "kena demam berdarah",
    "kena dbd", "kapan ditambal", "kapan diperbaiki", "dievaluasi", "evaluasi",
];

/// A request that somebody act.
#[rustfmt::skip]
const REQUEST: &[&str] = &[
    "ditindak", "ditertibkan", "ditertibno", "diperbaiki", "didandani", "dibersihkan", "dicek",
    "ditangani", "dievaluasi", "dibenahi", "dievakuasi", "diangkut", "ditambal", "ditera",
    "penertiban", "pemangkasan", "pengecekan", "pemantauan", "ditinjau", "diambil", "lapor",
    "melaporkan", "laporan", "keluhan", "mengadu", "aduan", "check it", "fix", "dibantu",
    "bantuan", "minta tolong", "dipasang", "fogging", "pengasapan",
];

/// Question forms that ask for information rather than action.
#[rustfmt::skip]
const QUESTION: &[&str] = &[
    "bagaimana cara", "cara", "prosedur", "syarat", "di mana", "ke mana", "ke siapa", "berapa",
    "apa saja", "siapa", "how", "where", "who", "what", "jam berapa", "bisa tidak", "boleh",
];

pub(super) struct Rules {
    critical: CueSet,
    hazard: CueSet,
    immediate: CueSet,
    defused: CueSet,
    medical: CueSet,
    spam: CueSet,
    insult: CueSet,
    human: CueSet,
    own_case: CueSet,
    sensitive: CueSet,
    complaint: CueSet,
    request: CueSet,
    question: CueSet,
    greeting: CueSet,
    /// Per agency (ticket destinations only): its id, compiled remit and places.
    remits: Vec<(String, CueSet, CueSet)>,
}

impl Rules {
    pub(super) fn compile(analyzer: &Analyzer, config: &Config) -> Rules {
        let remits = config
            .agencies
            .iter()
            .filter(|a| a.tickets)
            .map(|a| {
                let phrases: Vec<&str> = a.remit.iter().map(String::as_str).collect();
                let places: Vec<&str> = a.places.iter().map(String::as_str).collect();
                (
                    a.id.clone(),
                    CueSet::compile("remit", analyzer, &phrases),
                    CueSet::compile("place", analyzer, &places),
                )
            })
            .collect();
        let set = |name, cues| CueSet::compile(name, analyzer, cues);
        Rules {
            critical: set("critical", CRITICAL),
            hazard: set("hazard", HAZARD),
            immediate: set("immediate", IMMEDIATE),
            defused: set("defused", DEFUSED),
            medical: set("medical", MEDICAL),
            spam: set("spam", SPAM),
            insult: set("insult", INSULT),
            human: set("human", HUMAN),
            own_case: set("own_case", OWN_CASE),
            sensitive: set("sensitive", SENSITIVE),
            complaint: set("complaint", COMPLAINT),
            request: set("request", REQUEST),
            question: set("question", QUESTION),
            greeting: set("greeting", crate::knowledge::index::GREETING),
            remits,
        }
    }
}

impl Rules {
    /// What the cue lists and the agencies' remits and places find in a text, as features for
    /// the learned model (`set:cue`, and `remit:<agency>` / `place:<agency>` per agency matched).
    pub(super) fn features(
        &self,
        analysis: &crate::language::Analysis,
        analyzer: &Analyzer,
    ) -> Vec<String> {
        let stems = Stems::of(analysis, analyzer);
        let mut out = Vec::new();
        for set in [
            &self.critical,
            &self.hazard,
            &self.immediate,
            &self.defused,
            &self.medical,
            &self.spam,
            &self.insult,
            &self.human,
            &self.own_case,
            &self.sensitive,
            &self.complaint,
            &self.request,
            &self.question,
            &self.greeting,
        ] {
            let hits = set.find(&stems);
            if !hits.is_empty() {
                out.push(format!("set:{}", set.name()));
            }
            out.extend(hits);
        }
        for (id, remit, places) in &self.remits {
            if !remit.find(&stems).is_empty() {
                out.push(format!("remit:{id}"));
            }
            if !places.find(&stems).is_empty() {
                out.push(format!("place:{id}"));
            }
        }
        out
    }
}

/// How remit phrases and places count toward an agency: longer phrases are stronger evidence,
/// and a place the agency runs outweighs any phrase.
fn remit_score(remit_hits: &[String], place_hits: &[String]) -> f32 {
    let remit: f32 = remit_hits
        .iter()
        .map(|h| {
            let phrase = h.trim_start_matches("remit:");
            0.1 * phrase.split(['+', ' ']).filter(|w| !w.is_empty()).count() as f32
        })
        .sum();
    remit + 0.3 * place_hits.len() as f32
}

pub(super) fn decide(engine: &Engine, text: &str) -> Decision {
    let analyzer = engine.analyzer();
    let rules = &engine.rules;
    let thresholds = &engine.config().triage;
    let analysis = analyzer.analyze(text);
    let stems = Stems::of(&analysis, analyzer);
    let mut evidence = Evidence {
        words: analysis.words.clone(),
        personal_data: analysis.pii.iter().map(|p| p.kind).collect(),
        ..Evidence::default()
    };
    let decision = |kind, rule, evidence: Evidence| Decision {
        kind,
        topic: None,
        agency: None,
        rule,
        medical: false,
        evidence,
    };

    if analysis.words.is_empty() {
        return decision(Kind::Ignore, "empty", evidence);
    }

    // 1. Danger now: a person at risk, or a hazard said to be happening now, and nothing that
    // says it is past or only asked about.
    let critical = rules.critical.find(&stems);
    let hazard = rules.hazard.find(&stems);
    let immediate = rules.immediate.find(&stems);
    let defused = rules.defused.find(&stems);
    let exclaimed = text.contains("!!");
    let danger =
        !critical.is_empty() || (!hazard.is_empty() && (!immediate.is_empty() || exclaimed));
    if danger && defused.is_empty() {
        let rule = if critical.is_empty() {
            "emergency_hazard_now"
        } else {
            "emergency_critical"
        };
        let medical = !rules.medical.find(&stems).is_empty();
        evidence.cues = [critical, hazard, immediate].concat();
        let mut d = decision(Kind::Emergency, rule, evidence);
        d.medical = medical;
        return d;
    }
    if danger {
        evidence.cues.extend(defused);
    }

    // 2. Spam never gets a reply.
    let spam = rules.spam.find(&stems);
    if !spam.is_empty() || analysis.links > 0 && analysis.mentions.len() > 2 {
        evidence.cues.extend(spam);
        return decision(Kind::Ignore, "spam", evidence);
    }

    let search = engine.index.search(&analysis.terms).unwrap_or_else(|e| {
        tracing::error!(error = %e, "knowledge search failed");
        SearchResult::default()
    });
    let gate = Gate::of(&search, thresholds);
    gate.record(engine, &search, &mut evidence);
    let best_topic = search.matches.first().map(|m| &engine.entries()[m.entry]);
    let complaint = rules.complaint.find(&stems);
    let request = rules.request.find(&stems);
    let question = rules.question.find(&stems);
    let asks_or_reports = !complaint.is_empty() || !request.is_empty() || !question.is_empty();

    // 3. Nothing to act on or answer: pure insults, and banter the account is only tagged in.
    let insults = rules.insult.find(&stems);
    if !insults.is_empty() && !asks_or_reports && !gate.confident {
        evidence.cues.extend(insults);
        return decision(Kind::Ignore, "insult", evidence);
    }
    let handle = engine.config().account.handle.to_lowercase();
    let others = analysis.mentions.iter().filter(|m| **m != handle).count();
    if others >= 2 && !asks_or_reports && !gate.confident {
        return decision(Kind::Ignore, "not_addressed", evidence);
    }

    // 4. A request for a person, or a person's own case.
    let human = rules.human.find(&stems);
    if !human.is_empty() {
        evidence.cues.extend(human);
        return decision(Kind::Handoff, "asks_for_person", evidence);
    }
    let own_case = rules.own_case.find(&stems);
    if !own_case.is_empty() {
        evidence.cues.extend(own_case);
        return decision(Kind::Handoff, "own_case", evidence);
    }

    // 5. Complaints to agencies.
    let mut agencies: Vec<(String, f32)> = rules
        .remits
        .iter()
        .map(|(id, remit, places)| {
            let score = remit_score(&remit.find(&stems), &places.find(&stems));
            (id.clone(), score)
        })
        .filter(|(_, score)| *score > 0.0)
        .collect();
    agencies.sort_by(|a, b| b.1.total_cmp(&a.1));
    evidence.agencies = agencies.clone();
    // A confident answer about something outside the city's remit (PLN, the police) explains
    // who is responsible; no ticket could help.
    let answer_is_elsewhere = gate.confident
        && best_topic
            .and_then(|e| engine.config().agency(&e.agency))
            .is_some_and(|a| !a.tickets);
    // "How do I report a wild parking attendant?" asks for information, even though it names a
    // complaint: a confident answer wins over a report when the tweet is asked as a question.
    let info_question = gate.confident && !question.is_empty();
    if (!complaint.is_empty() || !request.is_empty())
        && let Some((agency, score)) = agencies.first()
        && *score >= thresholds.report_min_score
        && !answer_is_elsewhere
        && !info_question
    {
        evidence.cues.extend(complaint);
        evidence.cues.extend(request);
        let mut d = decision(Kind::Report, "complaint_routed", evidence);
        d.agency = Some(agency.clone());
        return d;
    }

    // 6. Rumours, anger and opinions go to a person even when an entry looks close.
    let sensitive = rules.sensitive.find(&stems);
    if !sensitive.is_empty() {
        evidence.cues.extend(sensitive);
        return decision(Kind::Handoff, "sensitive", evidence);
    }

    // 7. The knowledge base, behind its gate. An entry past its `expires` date is not used
    // until a person reviews it.
    if gate.confident
        && let Some(entry) = best_topic
    {
        if !crate::knowledge::is_current(entry, crate::knowledge::today()) {
            evidence.cues.push(format!("expired:{}", entry.id));
            return decision(Kind::Handoff, "kb_expired", evidence);
        }
        evidence.cues.extend(question);
        let mut d = decision(Kind::Answer, "kb_confident", evidence);
        d.topic = Some(entry.id.clone());
        d.agency = Some(entry.agency.clone());
        return d;
    }

    // 8. A greeting or thanks with nothing else to do gets the greeting entry.
    // Words beyond the greeting (a sarcastic "keren, ..." has many) make it something else.
    let greeting = rules.greeting.find(&stems);
    if !greeting.is_empty()
        && search.terms.len() <= 3
        && !asks_or_reports
        && !text.contains('?')
        && let Some(entry) = engine.entry(&thresholds.greeting_topic)
    {
        evidence.cues.extend(greeting);
        let mut d = decision(Kind::Answer, "greeting", evidence);
        d.topic = Some(entry.id.clone());
        d.agency = Some(entry.agency.clone());
        return d;
    }

    // 9. Everything else goes to a person.
    evidence.cues.extend(complaint);
    evidence.cues.extend(request);
    let rule = if search.matches.is_empty() {
        "no_kb_match"
    } else {
        "kb_unsure"
    };
    decision(Kind::Handoff, rule, evidence)
}

/// The confidence gate's inputs for the best candidate, and its verdict.
struct Gate {
    score: f32,
    margin: f32,
    coverage: f32,
    confident: bool,
}

impl Gate {
    fn of(search: &SearchResult, thresholds: &crate::config::Thresholds) -> Gate {
        let Some(best) = search.matches.first() else {
            return Gate {
                score: 0.0,
                margin: 0.0,
                coverage: 0.0,
                confident: false,
            };
        };
        let best_combined = best.combined();
        let second_combined = search.matches.get(1).map(|m| m.combined()).unwrap_or(0.0);
        let score = squash(best.bm25);
        let margin = if best_combined > 0.0 {
            (best_combined - second_combined) / best_combined
        } else {
            0.0
        };
        Gate {
            score,
            margin,
            coverage: best.coverage,
            confident: score >= thresholds.answer_min_score
                && margin >= thresholds.answer_min_margin
                && best.coverage >= thresholds.answer_min_coverage,
        }
    }

    fn record(&self, engine: &Engine, search: &SearchResult, evidence: &mut Evidence) {
        evidence.score = self.score;
        evidence.margin = self.margin;
        evidence.coverage = self.coverage;
        evidence.corrected = search.corrected.clone();
        evidence.candidates = search
            .matches
            .iter()
            .take(3)
            .map(|m| Candidate {
                topic: engine.entries()[m.entry].id.clone(),
                bm25: m.bm25,
                score: squash(m.bm25),
                coverage: m.coverage,
                matched: m.matched.clone(),
            })
            .collect();
    }
}

/// Maps an unbounded BM25 score to 0..1, so thresholds read the same whatever the base's size.
fn squash(bm25: f32) -> f32 {
    bm25 / (bm25 + 10.0)
}
