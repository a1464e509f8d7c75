//! The triage rules and the cue lists they read.

use super::cues::{CueSet, Stems};
use super::{Candidate, Decision, Engine, Evidence, Kind};
use crate::config::Config;
use crate::language::Analyzer;

/// A person's life or safety at risk right now.
const CRITICAL: &[&str] = &[
    "tidak sadar",
    "tidak sadarkan diri",
    "pingsan",
    "kejang",
    "sesak napas",
    "napasnya sesak",
    "tidak bernapas",
    "tidak bangun",
    "tenggelam",
    "hanyut",
    "keli",
    "klelep",
    "terjebak",
    "kejebak",
    "terjepit",
    "kejepit",
    "tertimpa",
    "ketimpa",
    "kena timpa",
    "tertimbun",
    "luka parah",
    "terluka parah",
    "tergeletak",
    "kecelakaan + berdarah",
    "kecelakaan + luka",
    "kecelakaan + korban",
    "jatuh + tidak sadar",
    "orang di dalam",
    "masih di dalam",
    "masih ada penghuni",
    "ada penghuni",
    "ada orang + dalam",
    "anak + dalam",
    "unconscious",
    "not breathing",
    "trapped",
    "people inside",
    "still inside",
    "injured",
    "drowning",
    "heart attack",
    "serangan jantung",
    "overdosis",
    "kesetrum",
    "tersengat listrik",
    "ular + bayi",
    "ular kobra + kamar",
    "tidak bisa jalan",
    "kursi roda",
    "wheelchair",
];

/// Danger that becomes an emergency when it is happening now.
const HAZARD: &[&str] = &[
    "kebakaran",
    "terbakar",
    "api",
    "apinya",
    "asap hitam",
    "asap tebal",
    "fire",
    "smoke",
    "air masuk rumah",
    "banjir masuk rumah",
    "air naik",
    "air mundhak",
    "air masuk",
    "sedengkul",
    "sepinggang",
    "sak dengkul",
    "flood",
    "kecelakaan",
    "tabrakan",
    "accident",
    "longsor",
    "roboh + orang",
    "ambruk",
    "percikan api",
    "korsleting",
    "korslet",
    "gas bocor",
    "tabung gas",
    "ular kobra",
    "gempa",
    "tanggul jebol",
];

/// Words that say it is happening now.
const IMMEDIATE: &[&str] = &[
    "sekarang",
    "saat ini",
    "barusan",
    "masih",
    "cepat",
    "cepet",
    "segera",
    "darurat",
    "help",
    "urgent",
    "tolong",
    "terus naik",
    "belum datang",
    "rising",
    "now",
    "fast",
];

/// Words that say it is not happening now, or that it is a question about it.
const DEFUSED: &[&str] = &[
    "kemarin",
    "semalam",
    "minggu lalu",
    "bulan lalu",
    "tahun lalu",
    "tidak ada korban",
    "tanpa korban",
    "sudah padam",
    "sudah ditangani",
    "sudah surut",
    "simulasi",
    "latihan",
    "kalau ada",
    "jika ada",
    "jika terjadi",
    "kalau terjadi",
    "nomor",
    "berapa",
    "rawan",
    "langganan",
    "macet",
    "bagaimana cara",
    "info",
    "waspada",
    "tips",
    "blm ada yang",
    "belum ada yang",
];

/// Cues that mark an emergency as medical (the reply adds 119).
const MEDICAL: &[&str] = &[
    "tidak sadar",
    "pingsan",
    "kejang",
    "sesak",
    "napas",
    "luka",
    "berdarah",
    "kecelakaan",
    "ambulans",
    "jatuh",
    "korban",
    "serangan jantung",
    "unconscious",
    "injured",
    "breathing",
    "tergeletak",
];

/// Advertising and scams.
const SPAM: &[&str] = &[
    "bitcoin",
    "crypto",
    "kripto",
    "invest",
    "investasi + untung",
    "slot",
    "gacor",
    "maxwin",
    "judi",
    "togel",
    "jual followers",
    "followers murah",
    "giveaway",
    "pinjaman online",
    "pinjol",
    "cek bio",
    "link di bio",
    "link bio",
    "klik link",
    "verified badge",
    "claim now",
    "dm sekarang",
    "bi checking",
    "cair + menit",
    "promo",
    "diskon",
    "open order",
];

/// Words that insult; a tweet of nothing else is ignored.
const INSULT: &[&str] = &[
    "goblok", "goblog", "tolol", "bodoh", "bego", "ndasmu", "bangsat", "jancok", "jancuk", "cok",
    "asu", "kampret", "taek", "tai", "anjing", "babi", "bajingan", "idiot", "stupid",
];

/// Banter between accounts that the account is merely tagged in.
const CHATTER: &[&str] = &[
    "mabar",
    "wkwk",
    "menang",
    "gol",
    "skor",
    "salam satu jiwa",
    "aremania",
    "yok",
    "ayo",
];

/// A citizen who asks for a person, or for contact outside the thread.
const HUMAN: &[&str] = &[
    "bicara dengan petugas",
    "bicara dengan orang",
    "bicara sama petugas",
    "ngomong sama petugas",
    "ngobrol sama petugas",
    "dengan manusia",
    "sama manusia",
    "admin asli",
    "petugas asli",
    "orang asli",
    "bukan bot",
    "sambungkan ke petugas",
    "hubungi saya",
    "telepon saya",
    "kontak saya",
    "ketemu langsung",
    "bertemu langsung",
    "audiensi",
    "interview",
    "wawancara",
    "talk to someone",
    "speak to",
    "real person",
    "mau bicara",
    "minta bicara",
];

/// A citizen's own case that only a person can look up.
const OWN_CASE: &[&str] = &[
    "status pengajuan",
    "nomor registrasi",
    "no registrasi",
    "no tiket",
    "nomor tiket",
    "kelanjutan laporan",
    "status laporan",
    "apakah saya terdaftar",
    "saya terdaftar",
    "dicek apakah",
    "cek status pengajuan",
    "atas nama",
    "yang kemarin itu",
    "sengketa",
    "korban penipuan",
];

/// A problem that somebody must fix.
const COMPLAINT: &[&str] = &[
    "rusak",
    "lubang",
    "berlubang",
    "mati",
    "padam",
    "bocor",
    "tersumbat",
    "menumpuk",
    "numpuk",
    "tidak diangkut",
    "belum diangkut",
    "kotor",
    "bau",
    "keruh",
    "liar",
    "curang",
    "pungli",
    "calo",
    "salah sasaran",
    "belum dibayar",
    "tidak dibayar",
    "belum jadi",
    "ambles",
    "amblas",
    "retak",
    "jebol",
    "ambrol",
    "longsor",
    "tumbang",
    "roboh",
    "semrawut",
    "macet",
    "gelap",
    "berisik",
    "salah input",
    "belum diterima",
    "mengemis",
    "telantar",
    "terlantar",
    "digigit",
    "mati mendadak",
    "sakit kulit",
    "tidak ada tindakan",
    "lama sekali",
    "parah",
    "ancur",
    "hancur",
    "kawah",
    "ngetem",
    "sumbangan",
    "pungutan",
    "wajib bayar",
    "tidak sopan",
    "menawarkan jasa",
    "naik + lipat",
    "reged",
    "mampet",
    "genang",
    "nggenang",
    "cracked",
    "broken",
    "crack",
    "antre + lama",
    "antrean + lama",
    "ngantri",
    "dibuang",
    "buang sampah",
    "angin kencang",
    "gentengnya",
    "tidak bisa lewat",
    "makan jalan",
    "tidak bisa tidur",
    "sampai jam",
    "harga + naik",
    "harga + menembus",
    "menembus",
    "sarang",
    "mengganggu",
    "sembarangan",
    "kena demam berdarah",
    "kena dbd",
    "kapan ditambal",
    "kapan diperbaiki",
    "dievaluasi",
    "evaluasi",
];

/// A request that somebody act.
const REQUEST: &[&str] = &[
    "ditindak",
    "ditertibkan",
    "ditertibno",
    "diperbaiki",
    "didandani",
    "dibersihkan",
    "dicek",
    "ditangani",
    "dievaluasi",
    "dibenahi",
    "dievakuasi",
    "diangkut",
    "ditambal",
    "ditera",
    "penertiban",
    "pemangkasan",
    "pengecekan",
    "pemantauan",
    "ditinjau",
    "diambil",
    "lapor",
    "melaporkan",
    "laporan",
    "keluhan",
    "mengadu",
    "aduan",
    "check it",
    "fix",
    "dibantu",
    "bantuan",
    "minta tolong",
    "dipasang",
    "fogging",
    "pengasapan",
];

/// Question forms that ask for information rather than action.
const QUESTION: &[&str] = &[
    "bagaimana cara",
    "cara",
    "prosedur",
    "syarat",
    "di mana",
    "ke mana",
    "ke siapa",
    "berapa",
    "apa saja",
    "siapa",
    "how",
    "where",
    "who",
    "what",
    "jam berapa",
];

pub(super) struct Rules {
    critical: CueSet,
    hazard: CueSet,
    immediate: CueSet,
    defused: CueSet,
    medical: CueSet,
    spam: CueSet,
    insult: CueSet,
    chatter: CueSet,
    human: CueSet,
    own_case: CueSet,
    complaint: CueSet,
    request: CueSet,
    question: CueSet,
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
        Rules {
            critical: CueSet::compile("critical", analyzer, CRITICAL),
            hazard: CueSet::compile("hazard", analyzer, HAZARD),
            immediate: CueSet::compile("immediate", analyzer, IMMEDIATE),
            defused: CueSet::compile("defused", analyzer, DEFUSED),
            medical: CueSet::compile("medical", analyzer, MEDICAL),
            spam: CueSet::compile("spam", analyzer, SPAM),
            insult: CueSet::compile("insult", analyzer, INSULT),
            chatter: CueSet::compile("chatter", analyzer, CHATTER),
            human: CueSet::compile("human", analyzer, HUMAN),
            own_case: CueSet::compile("own_case", analyzer, OWN_CASE),
            complaint: CueSet::compile("complaint", analyzer, COMPLAINT),
            request: CueSet::compile("request", analyzer, REQUEST),
            question: CueSet::compile("question", analyzer, QUESTION),
            remits,
        }
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

    // 1. Danger now.
    let critical = rules.critical.find(&stems);
    let hazard = rules.hazard.find(&stems);
    let immediate = rules.immediate.find(&stems);
    let defused = rules.defused.find(&stems);
    let exclaimed = text.contains("!!");
    let danger =
        !critical.is_empty() || (!hazard.is_empty() && (!immediate.is_empty() || exclaimed));
    if danger && defused.is_empty() {
        let medical = !rules.medical.find(&stems).is_empty();
        evidence.cues = [critical, hazard, immediate].concat();
        let mut d = decision(
            Kind::Emergency,
            if evidence.cues.iter().any(|c| c.starts_with("critical:")) {
                "emergency_critical"
            } else {
                "emergency_hazard_now"
            },
            evidence,
        );
        d.medical = medical;
        return d;
    }
    evidence
        .cues
        .extend(defused.iter().filter(|_| danger).cloned());

    // 2. What must not be answered.
    let spam = rules.spam.find(&stems);
    if !spam.is_empty() || analysis.links > 0 && analysis.mentions.len() > 2 {
        evidence.cues.extend(spam);
        return decision(Kind::Ignore, "spam", evidence);
    }
    let insults = rules.insult.find(&stems);
    let search = engine.index.search(&analysis.terms).unwrap_or_else(|e| {
        tracing::error!(error = %e, "knowledge search failed");
        Default::default()
    });
    let content_terms = search.terms.len();
    if !insults.is_empty() && content_terms <= insults.len() + 1 && !is_remit_hit(rules, &stems) {
        evidence.cues.extend(insults);
        return decision(Kind::Ignore, "insult", evidence);
    }
    let handle = engine.config().account.handle.to_lowercase();
    let others = analysis.mentions.iter().filter(|m| **m != handle).count();
    let chatter = rules.chatter.find(&stems);
    if others >= 2 && (!chatter.is_empty() || content_terms <= 2) {
        evidence.cues.extend(chatter);
        return decision(Kind::Ignore, "not_addressed", evidence);
    }

    // Knowledge-base candidates, for evidence and the gate.
    let best_combined = search.matches.first().map(|m| m.combined()).unwrap_or(0.0);
    let second_combined = search.matches.get(1).map(|m| m.combined()).unwrap_or(0.0);
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
    if let Some(best) = search.matches.first() {
        evidence.score = squash(best.bm25);
        evidence.margin = if best_combined > 0.0 {
            (best_combined - second_combined) / best_combined
        } else {
            0.0
        };
        evidence.coverage = best.coverage;
    }
    let confident = evidence.score >= thresholds.answer_min_score
        && evidence.margin >= thresholds.answer_min_margin
        && evidence.coverage >= thresholds.answer_min_coverage;

    // 3. A person's own case, or a request for a person.
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

    // 4. Complaints to agencies.
    let complaint = rules.complaint.find(&stems);
    let request = rules.request.find(&stems);
    let question = rules.question.find(&stems);
    let mut agencies: Vec<(String, f32)> = rules
        .remits
        .iter()
        .map(|(id, remit, places)| {
            (
                id.clone(),
                remit_score(&remit.find(&stems), &places.find(&stems)),
            )
        })
        .filter(|(_, score)| *score > 0.0)
        .collect();
    agencies.sort_by(|a, b| b.1.total_cmp(&a.1));
    evidence.agencies = agencies.clone();
    let best_topic = search.matches.first().map(|m| &engine.entries()[m.entry]);
    // A confident answer about something outside the city's remit (PLN, the police) explains
    // who is responsible; no ticket could help.
    let answer_is_elsewhere = confident
        && best_topic
            .and_then(|e| engine.config().agency(&e.agency))
            .is_some_and(|a| !a.tickets);
    // "How do I report a wild parking attendant?" asks for information, even though it names a
    // complaint: a confident answer wins over a report when the tweet is asked as a question.
    let info_question = confident && !question.is_empty();
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

    // 5. The knowledge base, behind its gate.
    if confident && let Some(entry) = best_topic {
        evidence.cues.extend(question);
        let mut d = decision(Kind::Answer, "kb_confident", evidence);
        d.topic = Some(entry.id.clone());
        d.agency = Some(entry.agency.clone());
        return d;
    }

    // 6. Everything else goes to a person.
    evidence.cues.extend(complaint);
    evidence.cues.extend(request);
    let rule = if search.matches.is_empty() {
        "no_kb_match"
    } else {
        "kb_unsure"
    };
    decision(Kind::Handoff, rule, evidence)
}

fn is_remit_hit(rules: &Rules, stems: &Stems) -> bool {
    rules
        .remits
        .iter()
        .any(|(_, remit, _)| !remit.find(stems).is_empty())
}

/// Maps an unbounded BM25 score to 0..1, so thresholds read the same whatever the base's size.
fn squash(bm25: f32) -> f32 {
    bm25 / (bm25 + 10.0)
}
