//! Triage on the shipped knowledge base: one tweet at a time, and the index build.
//!
//! `cargo bench --bench triage`. The tweets are the dev set's when ../shared is there, otherwise
//! a built-in sample of the same kinds. `kicau eval` prints p50/p99/max over the dev set too.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use kicau::Config;
use kicau::triage::Engine;

const SAMPLE: &[&str] = &[
    "@PemkotMalang min gmn cara bikin ktp, umurku baru 17",
    "@PemkotMalang lampu jalan di jl. sulfat mati 3 hari min",
    "@PemkotMalang kebakaran di gang 5 tlogomas apinya gede tolong",
    "@PemkotMalang min kapan car free day ijen buka lagi?",
    "@PemkotMalang jual followers murah cek bio",
    "@PemkotMalang sam, ayas kate gawe KK anyar, syarate opo ae?",
    "@PemkotMalang sampah di TPS deket pasar udh 4 hari gk diangkut, bau bgt",
];

fn tweets() -> Vec<String> {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/dev.jsonl");
    match kicau::eval::read_cases(&dev) {
        Ok(cases) => cases.into_iter().map(|c| c.text).collect(),
        Err(_) => SAMPLE.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn bench(c: &mut Criterion) {
    let config = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bot.toml"))
        .expect("shipped bot.toml loads");
    let engine = Engine::load(&config).expect("shipped knowledge base loads");
    let tweets = tweets();
    let mut i = 0;
    c.bench_function("triage one tweet", |b| {
        b.iter(|| {
            i = (i + 1) % tweets.len();
            black_box(engine.triage(black_box(&tweets[i])))
        })
    });
    c.bench_function("triage and compose the reply", |b| {
        b.iter(|| {
            i = (i + 1) % tweets.len();
            let decision = engine.triage(&tweets[i]);
            black_box(engine.reply(&decision, "warga1"))
        })
    });
    let mut group = c.benchmark_group("startup");
    group.sample_size(10);
    group.bench_function("load lexicon, knowledge base and index", |b| {
        b.iter(|| black_box(Engine::load(&config).expect("loads")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
