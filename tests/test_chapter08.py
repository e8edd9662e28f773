"""Chapter 08 (deep generative models): the stored lecture notebooks show what their text
states, the from-scratch pieces agree with torch, and each experiment script's --quick run
still learns. (nbval re-executes the notebooks themselves in `make test`.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from coursekit.assets import load_results
from coursekit.models.generative import gaussian_kl, vae_loss

ROOT = Path(__file__).resolve().parents[1]
GANS = ROOT / "notebooks" / "08a_gans.ipynb"
VAE_NOTEBOOK = ROOT / "notebooks" / "08b_vae.ipynb"


def outputs(path):
    """All text output of the notebook's code cells, and its markdown, as two strings."""
    notebook = nbformat.read(path, as_version=4)
    text, prose = [], []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            prose.append(cell.source)
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text.append(output["text"])
            elif output.get("output_type") == "error":
                raise AssertionError(f"{path.name} has a stored error: {output['ename']}")
    return "\n".join(text), "\n".join(prose)


def number_after(pattern, text):
    match = re.search(pattern, text)
    assert match, f"not found: {pattern}"
    return [float(g) for g in match.groups()]


# ------------------------------------------------------------------ 08a: GANs
def test_equilibrium_value_and_bce_are_exact():
    text, _ = outputs(GANS)
    assert "V = -1.386294 = -log 4 = -1.386294" in text
    assert "BCE at D = 1/2: real 0.693147, fake 0.693147, ln 2 = 0.693147" in text
    v_star, jsd_form = number_after(r"V\(D\*, G\) = (-[\d.]+);  -log 4 \+ 2 JSD = (-[\d.]+)", text)
    assert v_star == jsd_form and v_star > -np.log(4)  # any p_g != p_data scores above -log 4


def test_non_saturating_gradient_is_large_where_the_saturating_one_vanishes():
    text, _ = outputs(GANS)
    saturating, non_saturating = number_after(
        r"D\(G\(z\)\) = 0.001: d/da log\(1 - D\) = ([-+\d.]+),  d/da \[-log D\] = ([-+\d.]+)", text)
    assert abs(saturating) < 0.01 and abs(non_saturating) > 0.99


def test_modes_covered_as_the_text_states():
    summary = load_results("08_toy_gan_modes")["results"]["summary"]
    text, prose = outputs(GANS)
    assert load_results("08_toy_gan_modes")["seeds"] == [0, 1, 2, 3, 4]
    for pack in ("1", "2"):
        final, median = summary[pack]["final"], summary[pack]["median"]
        assert f"{final} of 8, median {median:g}" in text
        assert max(final) < 8  # "neither variant covers all 8 modes"
        assert min(final) >= 2  # "a complete collapse onto one or two modes did not [appear]"... at the end
    assert summary["1"]["median"] == 5 and summary["2"]["median"] == 4
    # "packing did not help ... within the seed-to-seed spread"
    assert summary["2"]["median"] <= summary["1"]["median"]
    assert summary["2"]["max"] >= summary["1"]["min"]
    assert "median of 5 modes covered (per seed\n2, 5, 5, 5, 5), packing with a median of 4 (3, 5, 5, 4, 4)" in prose
    runs = load_results("08_toy_gan_modes")["results"]["runs"]
    near = [run["high_quality"][-1] for run in runs]
    assert (round(100 * min(near)), round(100 * max(near))) == (12, 40)  # "only 12–40 % of the samples"
    assert runs[0]["modes_covered"] == [2, 0, 3, 3, 4, 2]


def test_cgan_label_accuracy_reaches_the_goal():
    results = load_results("08_digits_gan")["results"]
    text, prose = outputs(GANS)
    accuracies = [run["label_accuracy"] for run in results["cgan"]]
    assert np.mean(accuracies) >= 0.90  # the goal
    assert f"CGAN label accuracy: {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f} over 3 seeds" in text
    assert "97.9 ± 1.3 %" in prose and f"{100 * np.mean(accuracies):.1f}" == "97.9"
    assert [f"{100 * a:.1f}" for a in accuracies] == ["96.1", "98.5", "99.0"]
    assert f"{100 * results['judge_test_accuracy']:.1f}" == "97.6"


# ------------------------------------------------------------------ 08b: VAE
def test_closed_form_kl_against_torch_and_monte_carlo():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    q = torch.distributions.Normal(torch.tensor(mean), torch.tensor(np.exp(0.5 * log_var)))
    p = torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(gaussian_kl(torch.tensor(mean), torch.tensor(log_var)), expected, atol=1e-12)
    text, _ = outputs(VAE_NOTEBOOK)
    closed, = number_after(r"closed form \(NumPy\): ([\d.]+) nats", text)
    monte_carlo, spread = number_after(r"Monte Carlo: ([\d.]+) ± ([\d.]+) nats", text)
    assert abs(closed - monte_carlo) < 3 * spread + 0.005
    assert "|difference| < 1e-12: True" in text


def test_vae_loss_is_bernoulli_nll_plus_kl():
    x = torch.rand(4, 64)
    probabilities = torch.rand(4, 64).clamp(0.01, 0.99)
    mean, log_var = torch.randn(4, 2), torch.randn(4, 2)
    loss, recon, kl = vae_loss(x, probabilities, mean, log_var, beta=2.0)
    nll = -(x * probabilities.log() + (1 - x) * (1 - probabilities).log()).sum(1).mean()
    assert torch.isclose(recon, nll, rtol=1e-5) and torch.isclose(loss, recon + 2 * kl)


def test_reparameterization_and_score_function_agree_in_mean_and_differ_in_variance():
    text, prose = outputs(VAE_NOTEBOOK)
    for name in ("reparameterization", "score function"):
        mean, standard_error, _ = number_after(
            name + r": mean ([\d.]+), standard error ([\d.]+), variance ([\d.]+)", text)
        assert abs(mean - 2.0) < 2 * standard_error  # "agree with the exact gradient 2 within two s.e."
    ratio, = number_after(r"variance ratio score function / reparameterization: ([\d.]+)", text)
    assert ratio > 10 and f"about {ratio:.0f} times larger" in prose


def test_held_out_elbo_and_its_text():
    text, prose = outputs(VAE_NOTEBOOK)
    elbo, spread = number_after(r"held-out +elbo: (-[\d.]+) ± ([\d.]+) nats per image \(3 seeds\)", text)
    recon, _ = number_after(r"held-out reconstruction: ([\d.]+) ± ([\d.]+)", text)
    kl, _ = number_after(r"held-out +kl: ([\d.]+) ± ([\d.]+)", text)
    assert -30 < elbo < -20 and spread < 0.2  # "within 0.1 nats of each other"
    assert abs(elbo + recon + kl) < 0.02
    assert f"{elbo:.2f} ± {spread:.2f} nats per image" in prose.replace("−", "-")
    assert f"{recon:.2f} nats" in prose and f"{kl:.2f} nats" in prose


def test_beta_trade_off_as_stated():
    summary = load_results("08_vae_beta")["results"]["summary"]
    kl = [summary[b]["kl"][0] for b in ("0.25", "1", "4")]
    recon = [summary[b]["reconstruction"][0] for b in ("0.25", "1", "4")]
    elbo = {b: summary[b]["elbo"] for b in ("0.25", "1", "4")}
    assert kl[0] > kl[1] > kl[2] and kl[2] < 0.05  # posterior collapse at beta = 4
    assert recon[0] < recon[1] < recon[2]
    best = max(elbo, key=lambda b: elbo[b][0])
    assert best == "1" and elbo["1"][0] - elbo["1"][1] > elbo["0.25"][0] + elbo["0.25"][1]


def test_comparison_table_numbers():
    text, prose = outputs(VAE_NOTEBOOK)
    gan, gan_std = number_after(r"GAN \(stored, 3 seeds\): sample confidence ([\d.]+) ± ([\d.]+)", text)
    vae, vae_std = number_after(r"VAE: sample confidence ([\d.]+) ± ([\d.]+)", text)
    ae_recon, ae_recon_std, ae_conf, ae_conf_std = number_after(
        r"autoencoder: held-out reconstruction ([\d.]+) ± ([\d.]+) nats per image, "
        r"sample confidence ([\d.]+) ± ([\d.]+) \(3 seeds\)", text)
    assert gan - gan_std > vae + vae_std  # "a gap larger than the spreads"
    vae_recon, vae_recon_std = number_after(r"held-out reconstruction: ([\d.]+) ± ([\d.]+)", text)
    # "the autoencoder reconstructs better", over three seeds each, beyond both spreads
    assert vae_recon - ae_recon > 3 * max(ae_recon_std, vae_recon_std)
    for value in (gan, vae, ae_conf, ae_recon):
        assert f"{value:.3f}" in prose or f"{value:.2f}" in prose


# ------------------------------------------------------------------ experiment scripts, reduced budget
def run_script(name, tmp_path):
    subprocess.run([sys.executable, str(ROOT / "experiments" / f"{name}.py"), "--quick", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, timeout=300, capture_output=True)
    return json.loads((tmp_path / f"{name}.json").read_text())


def test_digits_gan_quick_still_learns(tmp_path):
    record = run_script("08_digits_gan", tmp_path)
    results = record["results"]
    assert record["seeds"] == [0] and record["log"]
    assert results["judge_test_accuracy"] > 0.9
    assert results["cgan"][0]["label_accuracy"] > 0.5  # chance is 0.1
    assert (tmp_path / "08_digits_gan.npz").stat().st_size < 1_000_000


def test_vae_beta_quick_still_learns(tmp_path):
    summary = run_script("08_vae_beta", tmp_path)["results"]["summary"]
    assert summary["0.25"]["kl"][0] > summary["4"]["kl"][0]
    assert summary["1"]["elbo"][0] > -40  # an untrained decoder scores about -64 ln 2 = -44 nats


def test_toy_gan_modes_quick_still_learns(tmp_path):
    results = run_script("08_toy_gan_modes", tmp_path)["results"]
    assert max(run["modes_covered"][-1] for run in results["runs"]) >= 1
    assert all(run["final_d_loss"] < 2 * np.log(2) + 0.1 for run in results["runs"])


# ------------------------------------------------------------------ exercises: reference vs oracles, mistakes caught
SOLUTION = ROOT / "solutions" / "08_generative_models" / "08_generative_models.ipynb"


@pytest.fixture(scope="module")
def reference():
    """The reference answers q1-q5 (without the checker and without q6's training)."""
    namespace = {}
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        source = cell.source
        if cell.cell_type != "code" or source.startswith("check(") or "checker(" in source or "VAE(" in source \
                or "ELBOJudge" in source:
            continue
        exec(compile("import numpy as np\n" + source, str(SOLUTION), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def tests_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tests08", SOLUTION.parent / "tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_answers_match_torch_oracles(reference, tests_module):
    t = tests_module
    rng = np.random.default_rng(3)
    mean, log_var, eps = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(9, 4))
    for got, expected in zip(reference["reparameterized_gradient"](mean, log_var, eps),
                             t.torch_reparameterized_gradient(mean, log_var, eps)):
        np.testing.assert_allclose(got, expected, rtol=1e-10)
    args = t.inputs_q3(rng, 3, 8, 2)
    np.testing.assert_allclose(reference["elbo"](*args), t.torch_elbo(*args), rtol=1e-10)
    args = t.inputs_q5(rng, 6, 4)
    np.testing.assert_allclose(reference["alternating_step"](*args), t.torch_alternating_step(*args), rtol=1e-10)
    m, lv = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(reference["gaussian_kl"](m, lv), t.torch_kl(m, lv), rtol=1e-10)
    assert reference["gan_losses"](np.full(3, 0.5), np.full(2, 0.5)) == pytest.approx(
        (2 * np.log(2), -np.log(2), np.log(2)))


def test_typical_mistakes_are_caught_by_the_oracles(tests_module):
    t = tests_module
    rng = np.random.default_rng(4)
    mean, log_var, eps = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(20, 3))
    sigma_for_variance = mean + np.exp(log_var) * eps  # mistake: exp(log_var) is the variance, not sigma
    expected = mean + np.exp(0.5 * log_var) * eps
    assert not np.allclose(sigma_for_variance, expected)
    x, p, m, lv = t.inputs_q3(rng, 2, 16, 2)
    mean_over_pixels = np.mean(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1) - t.torch_kl(m, lv)
    assert not np.allclose(mean_over_pixels, t.torch_elbo(x, p, m, lv), rtol=1e-5)
    w, b, theta, real, z, lr = t.inputs_q5(rng, 6, 6)
    _, _, theta_expected = t.torch_alternating_step(w, b, theta, real, z, lr)
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    theta_old_d = theta - lr * np.mean((sigmoid(w * (z + theta) + b) - 1) * w)  # mistake: G step with the old D
    assert not np.isclose(theta_old_d, theta_expected, rtol=1e-6)


def test_gaussian_mixture_data_validates_its_arguments():
    from coursekit.data import gaussian_mixture_modes, make_gaussian_mixture

    X, labels, modes = make_gaussian_mixture(500, n_modes=8, std=0.02, seed=1)
    assert X.shape == (500, 2) and modes.shape == (8, 2) and set(labels) <= set(range(8))
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.0)
    assert np.abs(X - modes[labels]).max() < 0.2  # within 10 sigma of its own mode
    assert gaussian_mixture_modes(9, "grid").shape == (9, 2)
    with pytest.raises(ValueError, match="square number"):
        gaussian_mixture_modes(8, "grid")
    with pytest.raises(ValueError, match="layout"):
        make_gaussian_mixture(layout="spiral")
    with pytest.raises(TypeError, match="n_samples"):
        make_gaussian_mixture(n_samples=10.5)


# ------------------------------------------------------------------ review additions
def test_optimal_discriminator_beats_random_ones_and_gradients_match_the_derivation():
    text, _ = outputs(GANS)
    assert "so do 10 000 random D: all below V(D*, G): True" in text
    assert "autograd against -D and -(1 - D): max |difference| < 1e-12: True" in text
    v_star = number_after(r"V\(D\*, G\) = (-[\d.]+);", text)[0]
    other = number_after(r"another D scores less: V\(D\* \+ 0.1, G\) = (-[\d.]+)", text)[0]
    assert other < v_star


def test_mode_hopping_example_of_the_text():
    runs = load_results("08_toy_gan_modes")["results"]["runs"]
    seed0 = next(run for run in runs if run["pack"] == 1 and run["seed"] == 0)
    _, prose = outputs(GANS)
    assert "(seed 0: " + ", ".join(str(n) for n in seed0["modes_covered"]) + ")" in prose
    assert max(max(run["modes_covered"]) for run in runs) < 8  # no run covers all 8 at any snapshot


# ------------------------------------------------- q6: the grade needs a real bottleneck
IDENTITY_VAE = '''from coursekit.models.generative import VAE, vae_loss

digits = load_digits(test_size=0.25, seed=0)


class Identity(nn.Module):  # the reviewer's cheat: no bottleneck, no training
    def forward(self, x, sample=True):
        return x, torch.zeros(len(x), 4), torch.zeros(len(x), 4)


vae = Identity()
'''

STASHING_VAE = '''from coursekit.models.generative import VAE, vae_loss

digits = load_digits(test_size=0.25, seed=0)


class Stash(nn.Module):  # encode() keeps the images, the decoder hands them back
    def __init__(self):
        super().__init__()
        self.images = None
        self.decoder = lambda z: self.images

    def encode(self, x):
        self.images = x
        return torch.zeros(len(x), 4), torch.zeros(len(x), 4)

    def forward(self, x, sample=True):
        mean, log_var = self.encode(x)
        return self.images, mean, log_var


vae = Stash()
'''


@pytest.fixture(scope="module")
def q6_grades(tmp_path_factory):
    from grading_support import grade_variants, honest_answers

    answers = honest_answers("08_generative_models")
    (cell,) = [k for k, source in answers.items() if "VAE(latent_dim" in source]
    return grade_variants(tmp_path_factory.mktemp("grade08"), "08_generative_models", {
        "reference": {},
        "identity": {cell: IDENTITY_VAE},
        "stash": {cell: STASHING_VAE},
        "three_epochs": {cell: answers[cell].replace("range(20)", "range(3)")},
    })


def test_q6_reference_full_marks_and_cheats_or_undertraining_nothing(q6_grades):
    assert q6_grades["reference"]["q6"] == 4.0
    assert q6_grades["identity"]["q6"] == 0.0  # (X, 0, 0) used to score 4/4 (13.65 nats per digit)
    assert q6_grades["stash"]["q6"] == 0.0     # the decoder copy is taken before encoding
    assert q6_grades["three_epochs"]["q6"] == 0.0  # used to earn half the points
    for name in ("identity", "stash", "three_epochs"):  # the other questions are untouched
        assert {q: p for q, p in q6_grades[name].items() if q != "q6"} == \
            {q: p for q, p in q6_grades["reference"].items() if q != "q6"}
