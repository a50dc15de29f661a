//! The model's quantities against brute-force enumeration of every (v, h) (docs/maths.md §6, check 1).

mod common;

use common::{random_rbm, BruteForce};
use onsager::estimate::exact::{self, Layer};
use onsager::{Float, Rbm};

fn check_model<T: Float>(rbm: &Rbm<T>, tol: f64) {
    let bf = BruteForce::new(rbm);
    let vs = bf.vs.mapv(T::of);
    let hs = bf.hs.mapv(T::of);

    let ph = rbm.hidden_probs(vs.view()).unwrap();
    for vi in 0..vs.nrows() {
        for j in 0..rbm.n_hidden() {
            let want = bf.p_h_given_v(vi, j);
            assert!(
                (ph[[vi, j]].f64() - want).abs() < tol,
                "P(h{j}|v{vi}) {} vs {want}",
                ph[[vi, j]]
            );
        }
    }
    let pv = rbm.visible_probs(hs.view()).unwrap();
    for hi in 0..hs.nrows() {
        for i in 0..rbm.n_visible() {
            let want = bf.p_v_given_h(hi, i);
            assert!((pv[[hi, i]].f64() - want).abs() < tol, "P(v{i}|h{hi})");
        }
    }
    let f = rbm.free_energy(vs.view()).unwrap();
    let log_z = bf.log_z();
    for vi in 0..vs.nrows() {
        let want = bf.free_energy(vi);
        assert!(
            (f[vi] - want).abs() < tol * (1.0 + want.abs()),
            "F_c(v{vi}) {} vs {want}",
            f[vi]
        );
    }
    for layer in [Layer::Visible, Layer::Hidden, Layer::Smaller] {
        let z = exact::log_partition(rbm, layer).unwrap();
        assert!(
            (z - log_z).abs() < 1e-9 * (1.0 + log_z.abs()),
            "{layer:?}: {z} vs {log_z}"
        );
    }
    let ll = exact::log_likelihood(rbm, vs.view()).unwrap();
    let total: f64 = ll.iter().map(|l| l.exp()).sum();
    assert!((total - 1.0).abs() < tol * 10.0, "Σ_v p(v) = {total}");
    for vi in 0..vs.nrows() {
        let want = -bf.free_energy(vi) - log_z;
        assert!(
            (ll[vi] - want).abs() < tol * (1.0 + want.abs()),
            "log p(v{vi})"
        );
    }
    // The energy of every (v, h) pair, whatever the layers' sizes: pair k takes visible state
    // k mod 2^nv and hidden state k mod 2^nh.
    let n = vs.nrows().max(hs.nrows());
    let (nvs, nhs) = (vs.nrows(), hs.nrows());
    let v = ndarray::Array2::from_shape_fn((n, rbm.n_visible()), |(k, i)| vs[[k % nvs, i]]);
    let h = ndarray::Array2::from_shape_fn((n, rbm.n_hidden()), |(k, j)| hs[[k % nhs, j]]);
    let e = rbm.energy(v.view(), h.view()).unwrap();
    for k in 0..n {
        let want = -bf.neg_e[[k % nvs, k % nhs]];
        assert!(
            (e[k] - want).abs() < tol * (1.0 + want.abs()),
            "E(v{}, h{}) {} vs {want}",
            k % nvs,
            k % nhs,
            e[k]
        );
    }
}

#[test]
fn tiny_models_match_enumeration_f64() {
    for (seed, (nv, nh)) in [(7, 5), (10, 8), (4, 4), (1, 3)].into_iter().enumerate() {
        let rbm = random_rbm::<f64>(nv, nh, 1.0, 1.0, seed as u64);
        check_model(&rbm, 1e-10);
        check_model(&rbm.clone().with_beta(0.7).unwrap(), 1e-10);
    }
}

#[test]
fn tiny_models_match_enumeration_f32() {
    for (seed, (nv, nh)) in [(7, 5), (10, 8), (6, 6)].into_iter().enumerate() {
        let rbm = random_rbm::<f32>(nv, nh, 1.0, 1.0, 10 + seed as u64);
        check_model(&rbm, 2e-5);
    }
}

#[test]
fn exact_log_z_visible_and_hidden_enumeration_agree_on_a_swapped_model() {
    let rbm = random_rbm::<f64>(9, 6, 0.8, 0.5, 3);
    let swapped = Rbm::from_parts(
        rbm.weights().t().to_owned(),
        rbm.hidden_bias().to_owned(),
        rbm.visible_bias().to_owned(),
    )
    .unwrap();
    let by_h = exact::log_partition(&rbm, Layer::Hidden).unwrap();
    let by_v = exact::log_partition(&rbm, Layer::Visible).unwrap();
    let swapped_by_v = exact::log_partition(&swapped, Layer::Visible).unwrap();
    assert!((by_h - by_v).abs() < 1e-10);
    assert!((by_h - swapped_by_v).abs() < 1e-10);
}

#[test]
fn exact_log_z_refuses_huge_layers_naming_the_state_count() {
    let rbm = Rbm::<f32>::zeros(40, 31).unwrap();
    let err = exact::log_partition(&rbm, Layer::Smaller)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2^31"), "{err}");
}

#[test]
fn gibbs_sampling_matches_the_model_marginals() {
    // Long chains from one start should visit v with frequency p(v).
    let rbm = random_rbm::<f64>(3, 2, 1.0, 0.5, 11);
    let bf = BruteForce::new(&rbm);
    let log_z = bf.log_z();
    let n = 4000;
    let start = ndarray::Array2::<f64>::zeros((n, 3));
    let v = rbm.gibbs(start.view(), 30, 5).unwrap();
    for s in 0..8 {
        let p = (-bf.free_energy(s) - log_z).exp();
        let count = v
            .rows()
            .into_iter()
            .filter(|r| (0..3).all(|j| r[j] == bf.vs[[s, j]]))
            .count();
        let freq = count as f64 / n as f64;
        let sd = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (freq - p).abs() < 5.0 * sd + 1e-3,
            "state {s}: {freq} vs {p}"
        );
    }
}
