"""Chapter 07 (unsupervised learning and autoencoders): exercise answers, grading and the
lecture notebook.

The reference answers of solutions/07_unsupervised_learning are checked against oracles
that do not share their code (scikit-learn, torch, coursekit.unsupervised); a submission
with three classic mistakes must lose points on exactly those questions; the stored lecture
notebook must show the results its text states. (nbval re-executes the notebook itself in
`make test`.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from grading_support import reference_namespace
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, silhouette_score

from coursekit.nn import functional as F_np
from coursekit.unsupervised import kmeans_assign, kmeans_update

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "07_unsupervised_learning"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
LECTURE = ROOT / "notebooks" / "07_unsupervised_learning.ipynb"
POINTS = {"q1": 3, "q2": 3, "q3": 3, "q4": 3, "q5": 2, "q6": 3, "q7": 4}
NUMBER = r"-?\d+\.?\d*"


@pytest.fixture(scope="module")
def reference():
    """Namespace after the reference solution's code cells, without check cells and
    without q7's training run (the grading test covers it)."""
    return reference_namespace(SOLUTION, ASSIGNMENT, skip=("fit(autoencoder", "scorer = "))


# ------------------------------------------------------------------ reference answers
def test_kmeans_steps_match_the_library(reference):
    rng = np.random.default_rng(0)
    X, centres = rng.normal(size=(40, 3)), rng.normal(size=(5, 3))
    centres[4] = 50.0  # owns no row
    labels = reference["assign_step"](X, centres)
    np.testing.assert_array_equal(labels, kmeans_assign(X, centres))
    np.testing.assert_allclose(reference["update_step"](X, labels, centres), kmeans_update(X, labels, centres))


def test_objective_and_silhouette_match_sklearn(reference):
    rng = np.random.default_rng(1)
    X, labels = rng.normal(size=(30, 2)), rng.integers(0, 3, 30)
    labels[0] = 7  # a singleton cluster with a label outside 0..k-1
    assert reference["silhouette"](X, labels) == pytest.approx(silhouette_score(X, labels), rel=1e-10)
    centres = rng.normal(size=(8, 2))
    brute = sum(np.sum((x - centres[c]) ** 2) for x, c in zip(X, labels))
    assert reference["kmeans_objective"](X, centres, labels) == pytest.approx(brute, rel=1e-12)


def test_pca_matches_sklearn_with_signs(reference):
    X = np.random.default_rng(2).normal(size=(40, 7)) @ np.diag([5, 4, 3, 2, 1, 0.5, 0.1])
    components, variances, mean = reference["pca_fit"](X, 4)
    sk = PCA(4, svd_solver="full").fit(X)
    np.testing.assert_allclose(components, sk.components_, atol=1e-10)
    np.testing.assert_allclose(variances, sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(mean, sk.mean_, atol=1e-12)


def test_auc_matches_sklearn_with_ties(reference):
    rng = np.random.default_rng(3)
    scores, labels = np.round(rng.random(80), 1), rng.random(80) < 0.4
    assert reference["roc_auc"](scores, labels) == pytest.approx(roc_auc_score(labels, scores), rel=1e-12)


@pytest.mark.parametrize("n, k, stride, padding, output_padding, dilation",
                         [(4, 3, 2, 1, 1, 1), (7, 4, 3, 2, 0, 1), (5, 3, 1, 0, 1, 2), (1, 1, 1, 0, 0, 1)])
def test_transposed_conv_size_matches_torch(reference, n, k, stride, padding, output_padding, dilation):
    layer = torch.nn.ConvTranspose1d(1, 1, k, stride=stride, padding=padding, output_padding=output_padding,
                                     dilation=dilation)
    assert reference["conv_transpose_output_size"](n, k, stride, padding, output_padding, dilation) == \
        layer(torch.zeros(1, 1, n)).shape[-1]
    with pytest.raises(ValueError):
        reference["conv_transpose_output_size"](n, k, stride, padding, max(stride, dilation), dilation)


@pytest.mark.parametrize("shape, k", [((2, 3, 8, 6), 2), ((1, 2, 7, 9), 3)])
def test_pooling_and_unpooling_match_torch(reference, shape, k):
    x = np.random.default_rng(4).normal(size=shape)
    out, indices = reference["maxpool_with_indices"](x, k)
    torch_out, torch_indices = torch.nn.functional.max_pool2d(torch.tensor(x), k, return_indices=True)
    np.testing.assert_array_equal(out, torch_out.numpy())
    np.testing.assert_array_equal(indices, torch_indices.numpy())
    np.testing.assert_array_equal(
        reference["max_unpool"](out, indices, shape[2:]),
        torch.nn.functional.max_unpool2d(torch_out, torch_indices, k, output_size=shape[2:]).numpy())


def test_library_unpooling_and_transposed_conv_match_torch():
    """The from-scratch operations the notebook's convolutional autoencoder is built from."""
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(3, 4, 3, 3)), rng.normal(size=4)
    ours, _ = F_np.conv_transpose2d_forward(x, w, b, stride=2, padding=1, output_padding=1)
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2,
                                                  padding=1, output_padding=1).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    maps = rng.normal(size=(2, 3, 8, 8))
    pooled, cache = F_np.maxpool2d_forward(maps, 2)
    torch_pooled, torch_indices = torch.nn.functional.max_pool2d(torch.tensor(maps), 2, return_indices=True)
    np.testing.assert_array_equal(cache["indices"], torch_indices.numpy())
    np.testing.assert_array_equal(F_np.max_unpool2d(pooled, cache["indices"], (8, 8)),
                                  torch.nn.functional.max_unpool2d(torch_pooled, torch_indices, 2,
                                                                   output_size=(8, 8)).numpy())


# ------------------------------------------------------------------ grading
MISTAKES = {  # answer cell -> a classic wrong answer
    "answer-1": (  # the mean of an empty cluster is NaN
        "def assign_step(X, centres):\n"
        "    return ((X[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)\n\n\n"
        "def update_step(X, labels, centres):\n"
        "    return np.array([X[labels == j].mean(axis=0) for j in range(len(centres))])\n"),
    "answer-3": (  # the sign convention reversed
        "def pca_fit(X, k):\n"
        "    mean = X.mean(axis=0)\n"
        "    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)\n"
        "    return -vt[:k], s[:k] ** 2 / (len(X) - 1), mean\n"),
    "answer-4": (  # ties counted as losses
        "def anomaly_scores(X, X_reconstructed):\n"
        "    return np.mean((X - X_reconstructed) ** 2, axis=1)\n\n\n"
        "def roc_auc(scores, is_anomaly):\n"
        "    is_anomaly = np.asarray(is_anomaly, dtype=bool)\n"
        "    p, n = scores[is_anomaly], scores[~is_anomaly]\n"
        "    return float((p[:, None] > n[None, :]).mean())\n"),
}


def test_grading_rewards_the_reference_and_catches_classic_mistakes(tmp_path):
    from coursekit.grading.assign import assign_one
    from coursekit.grading.grade import grade

    summary = assign_one(SOLUTION.parent, tmp_path / "exercises", tmp_path / "bundles", tmp_path / "public")
    release = json.loads(Path(summary["notebook"]).read_text())
    reference_cells = [cell["source"] for cell in json.loads(SOLUTION.read_text())["cells"]
                       if cell["cell_type"] == "code"]
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "unsolved.ipynb").write_text(json.dumps(release))
    solved = json.loads(json.dumps(release))
    answer_ids = [c["id"] for c in solved["cells"] if c["id"].startswith("answer-")]
    assert len(answer_ids) == 7
    answers = [src for src in reference_cells if "### BEGIN SOLUTION" in "".join(src)]
    for cell_id, source in zip(answer_ids, answers):
        text = "\n".join(line for line in "".join(source).splitlines()
                         if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        next(c for c in solved["cells"] if c["id"] == cell_id)["source"] = text
    (submissions / "reference.ipynb").write_text(json.dumps(solved))
    for cell in solved["cells"]:
        if cell["id"] in MISTAKES:
            cell["source"] = MISTAKES[cell["id"]]
    (submissions / "mistakes.ipynb").write_text(json.dumps(solved))

    out = tmp_path / "grades"
    grade(ASSIGNMENT, submissions, out, bundle=Path(summary["bundle"]), workers=1, quiet=True)
    from grading_support import read_grades

    points = read_grades(out)
    assert points["reference"] == POINTS
    assert points["unsolved"] == {q: 0.0 for q in POINTS}
    mistakes = points["mistakes"]
    for question in ("q2", "q5", "q6", "q7"):
        assert mistakes[question] == POINTS[question], question
    for question in ("q1", "q4"):  # the rest of each of these questions is still right
        assert 0.0 < mistakes[question] < POINTS[question], question
    assert mistakes["q3"] == 0.0  # flipped signs: every comparison fails


# ------------------------------------------------------------------ lecture notebook
def stored_cells():
    return [cell for cell in nbformat.read(LECTURE, as_version=4).cells if cell.cell_type == "code"]


def output_of(snippet: str) -> str:
    """The stream output of the one code cell whose source contains ``snippet``."""
    matches = [cell for cell in stored_cells() if snippet in cell.source]
    assert len(matches) == 1, f"{len(matches)} cells contain {snippet!r}"
    return "".join(output.get("text", "") for output in matches[0].get("outputs", [])
                   if output.get("output_type") == "stream")


def mean_std(text: str, prefix: str):
    match = re.search(re.escape(prefix) + rf"\s*({NUMBER}) ±\s*({NUMBER})", text)
    assert match, f"{prefix!r} not found in {text!r}"
    return float(match.group(1)), float(match.group(2))


def prose() -> str:
    return "\n".join(cell.source for cell in nbformat.read(LECTURE, as_version=4).cells
                     if cell.cell_type == "markdown")


def test_lecture_is_executed_without_errors():
    cells = stored_cells()
    assert all(cell.get("execution_count") for cell in cells)
    assert not any(output.get("output_type") == "error" for cell in cells for output in cell.get("outputs", []))


def test_linear_autoencoder_spans_the_pca_subspace():
    """Must: the largest principal angle is below 1° on every seed."""
    assert "3 seeds: < 1°: True" in output_of("train_linear_autoencoder(X_train, 2, seed)")


def test_kmeans_equals_sklearn_from_the_same_centres():
    text = output_of("KMeans(10, init=init")
    assert text.count("identical assignments: True; relative inertia difference < 1e-12: True") == 3


def test_kmeans_plus_plus_reaches_the_lowest_inertia_more_often():
    text = output_of("plusplus_final.append")
    random_mean, random_std = mean_std(text, "9 random points: final inertia")
    plus_mean, _ = mean_std(text, "k-means++: final inertia")
    reached = [int(n) for n in re.findall(r"(\d+) of 20 reach the lowest", text)]
    assert reached[1] >= 2 * reached[0]  # "about three times as many runs"
    assert 0.5 * random_std < random_mean - plus_mean < 1.5 * random_std  # "about one standard deviation"


def test_elbow_and_silhouette_point_at_four_clusters():
    text = output_of("silhouette_score(X_blobs")
    assert "best silhouette at k = 4" in text
    inertia = [float(v) for v in re.search(r"inertia:\s+(.*)", text).group(1).split()]
    drops = -np.diff(inertia)
    assert drops[2] > 5 * drops[3]  # steep up to 4, slow after


def test_clustering_failures_the_text_describes():
    text = output_of('fcluster(linkage(X_train, method=method)')
    ward = float(re.search(rf"ward linkage.*?labels ({NUMBER})", text).group(1))
    single = float(re.search(rf"single linkage.*?labels ({NUMBER})", text).group(1))
    kmeans_truth, _ = mean_std(output_of("truth_ours.append"), "ARI with the digit labels: ours")
    assert "ARI 0.756 against about 0.61" in prose() and ward == 0.756 and abs(kmeans_truth - 0.61) < 0.01
    assert single < 0.05
    moons = output_of("moon_scores = ")
    assert mean_std(moons, "single linkage: ARI with the true moons") == (1.0, 0.0)
    for name in ("k-means", "Ward linkage"):
        assert mean_std(moons, f"{name}: ARI with the true moons")[0] < 0.5


def test_deep_autoencoder_beats_pca_at_short_codes_only():
    rows = re.findall(rf"^\s*(\d+) \| ({NUMBER}) ± ({NUMBER})\s*\| ({NUMBER})",
                      output_of("ae_error = {k:"), flags=re.M)
    assert [int(r[0]) for r in rows] == [2, 4, 8, 16]
    for k, mean, std, pca_error in rows:
        mean, std, pca_error = float(mean), float(std), float(pca_error)
        if int(k) < 16:
            assert pca_error - mean > 3 * max(std, 1e-4), k
        else:
            assert mean - pca_error > 3 * max(std, 1e-4)
    text = output_of("ae_knn = [")
    knn_mean, knn_std = mean_std(text, "5-NN test accuracy on 2-D codes: deep AE")
    pca_knn = float(re.search(rf"PCA ({NUMBER})", text).group(1))
    assert knn_mean - pca_knn > max(knn_std, 0.01)


def test_denoising_autoencoder_removes_more_noise():
    text = output_of("denoisers = {s:")
    plain, plain_std = mean_std(text, "plain AE (trained on clean):")
    denoising, denoising_std = mean_std(text, "denoising AE:")
    noisy = float(re.search(rf"clean images ({NUMBER})", text).group(1))
    assert denoising < plain < noisy
    assert plain - denoising > 3 * max(plain_std, denoising_std, 1e-4)


def test_layerwise_pretraining_numbers_the_text_states():
    text = output_of("pretraining = {")
    before, _ = mean_std(text, "stacked, before fine-tuning: test MSE")
    tuned, tuned_std = mean_std(text, "stacked, fine-tuned 10 epochs: test MSE")
    scratch, scratch_std = mean_std(text, "random init, trained 10 epochs: test MSE")
    assert tuned < before and scratch - tuned > 3 * max(tuned_std, scratch_std)
    assert abs(before - scratch) < 0.3 * scratch  # "about that of the randomly initialized network"


def test_retrieval_and_compression_numbers_the_text_cites():
    text = output_of("precision_ae = [")
    ae, _ = mean_std(text, "precision@10 by 8-number AE codes:")
    pca_precision = float(re.search(rf"by 8 PCA components: ({NUMBER})", text).group(1))
    pixels = float(re.search(rf"by 64 pixels: ({NUMBER})", text).group(1))
    assert abs(ae - pca_precision) < 0.02 and abs(ae - 0.90) < 0.02 and abs(pixels - 0.95) < 0.01
    text = output_of("quantized_error = {}")
    rows = {int(b): float(m) for b, m in re.findall(rf"^\s*(\d+) \|\s+\d+ \| ({NUMBER}) ±", text, flags=re.M)}
    float_code, _ = mean_std(text, "unquantized code:")
    assert "(0.0191 against 0.0185)" in prose() and rows[4] == 0.0191 and float_code == 0.0185
    assert rows[6] == rows[8] == float_code
    assert 3.5 < rows[1] / float_code < 4.5  # "about four times larger"


def test_anomaly_detection_auc():
    """Must: AUC ≥ 0.9 for unseen digits and better than PCA by more than the spread."""
    text = output_of("auc_ae = [")
    auc, auc_std = mean_std(text, "deep AE")
    pca_auc = float(re.search(rf"PCA \(8 components\) ({NUMBER})", text).group(1))
    assert auc >= 0.9 and abs(auc - 0.96) < 0.01  # the text says "about 0.96"
    assert auc - pca_auc > 3 * auc_std


def test_density_estimation_prefers_the_true_number_of_components_on_new_points():
    rows = re.findall(rf"^\s*(\d+) \|\s+({NUMBER}) \|\s+({NUMBER})", output_of("GaussianMixture(k"), flags=re.M)
    train = {int(k): float(a) for k, a, _ in rows}
    new = {int(k): float(b) for k, _, b in rows}
    assert max(train, key=train.get) == 8 and max(new, key=new.get) == 4


def test_anomaly_auc_per_unseen_digit_as_the_text_states():
    """The review's fix: 8s and 9s are the hardest unseen digits to flag, 5s the easiest."""
    text = output_of("AUC of each unseen digit against all normal digits")
    auc = {int(d): (float(m), float(s)) for d, m, s in
           re.findall(rf"digit (\d): ({NUMBER}) ± ({NUMBER})", text)}
    assert sorted(auc) == [5, 6, 7, 8, 9]
    hardest = sorted(auc, key=lambda d: auc[d][0])[:2]
    assert sorted(hardest) == [8, 9] and max(auc, key=lambda d: auc[d][0]) == 5
    assert auc[5][0] - auc[5][1] > max(auc[8][0] + auc[8][1], auc[9][0] + auc[9][1])  # beyond the spread
    text_prose = prose()
    assert f"(AUC {auc[8][0]:.2f} and {auc[9][0]:.2f}), 5s the easiest ({auc[5][0]:.2f})" in text_prose


def test_seeds_shown_where_the_spread_rounds_to_zero():
    errors = [float(v) for v in re.search(r"2-number code, seed by seed: (.*)", output_of("ae_error = {k:")).group(1)
              .split(", ")]
    assert len(errors) == 3 and max(errors) - min(errors) < 1e-3
    seeds = re.search(r"\(3 seeds: (.*)\)", output_of("precision_ae = [")).group(1).split(", ")
    assert len(seeds) == 3


def test_pretraining_text_cites_the_section_6_error():
    k8 = re.search(rf"^\s*8 \| ({NUMBER}) ±", output_of("ae_error = {k:"), flags=re.M).group(1)
    assert f"reaches {k8}." in prose()
