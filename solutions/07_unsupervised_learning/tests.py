"""Questions and tests of exercise set 07 (unsupervised learning and autoencoders).

Expected values come from oracles independent of the reference where a test names an
explicit ``expected`` (scikit-learn's PCA, silhouette_score and roc_auc_score, torch's
ConvTranspose2d, max_pool2d and max_unpool2d); the others are computed by `coursekit
assign` from the reference solution. Hidden inputs and the held-out digits of q7 are drawn
from the instructor secret (``secret_rng``) at assign time. Public tests
are shown to students (5 % of each question's points); hidden tests run in `coursekit grade`.
"""

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, silhouette_score

from coursekit.data import load_digits
from coursekit.grading import Question, accuracy, call, raises, secret_rng

# ------------------------------------------------------------------ inputs
rng = secret_rng("q1")
blob_centres = rng.normal(0, 5, size=(4, 5))
X_blobs5 = blob_centres[rng.integers(0, 4, 60)] + rng.normal(size=(60, 5))
init_blobs5 = rng.normal(0, 5, size=(4, 5))
X_far = rng.normal(size=(30, 3))
init_far = np.vstack([rng.normal(size=(2, 3)), [[100.0, 100.0, 100.0]]])  # centre 2 owns no row
ties_X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
ties_centres = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])

rng2 = secret_rng("q2")
X_sil = np.vstack([rng2.normal(0, 1, size=(15, 2)), rng2.normal(4, 1, size=(12, 2)), [[20.0, 20.0]]])
labels_sil = np.r_[np.zeros(15, int), np.full(12, 5), [9]]  # labels 0, 5 and a singleton 9
X_sil3 = rng2.normal(size=(25, 4))
labels_sil3 = rng2.integers(0, 3, 25)
centres_obj = rng2.normal(size=(3, 4))

rng3 = secret_rng("q3")
X_pca = rng3.normal(size=(50, 6)) @ np.diag([4.0, 3.0, 2.0, 1.0, 0.5, 0.2]) + rng3.normal(0, 3, size=6)
X_pca_wide = rng3.normal(size=(8, 12))


def sklearn_pca(X, k):
    reference = PCA(k, svd_solver="full").fit(X)
    return reference.components_, reference.explained_variance_, reference.mean_


rng4 = secret_rng("q4")
X_rec = rng4.random((40, 16))
X_rec_hat = X_rec + rng4.normal(0, 0.1, size=(40, 16))
scores_auc = rng4.random(60)
labels_auc = rng4.random(60) < 0.3
scores_ties = np.round(rng4.random(50), 1)  # many ties
labels_ties = rng4.random(50) < 0.5


def torch_conv_transpose_size(n, k, stride=1, padding=0, output_padding=0, dilation=1):
    layer = torch.nn.ConvTranspose1d(1, 1, k, stride=stride, padding=padding,
                                     output_padding=output_padding, dilation=dilation)
    return layer(torch.zeros(1, 1, n)).shape[-1]


rng6 = secret_rng("q6")
maps_a = rng6.normal(size=(2, 3, 8, 6))
maps_odd = rng6.normal(size=(1, 2, 7, 9))  # rows/cols that do not fill a window
maps_ties = np.round(rng6.random((1, 1, 6, 6)) * 2)  # many ties


def torch_pool(x, k):
    out, indices = torch.nn.functional.max_pool2d(torch.tensor(x), k, return_indices=True)
    return out.numpy(), indices.numpy()


def torch_unpool(x, k, output_size):
    out, indices = torch.nn.functional.max_pool2d(torch.tensor(x), k, return_indices=True)
    return torch.nn.functional.max_unpool2d(out, indices, k, output_size=output_size).numpy()


pooled_3, indices_3 = torch_pool(maps_odd, 3)

# q7: held-out digits the student's notebook never sees (it gets only the training split):
# a subset of the test split drawn from the instructor secret.
digits = load_digits(test_size=0.25, seed=0)
heldout = secret_rng("heldout").choice(len(digits.X_test), 300, replace=False)
X_heldout = digits.X_test[heldout]
X_val = digits.X_train[1100:]

QUESTIONS = [
    Question(
        "q1", points=3, title="The two steps of k-means",
        public=[call("assign_step", np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([[1.0, 1.0], [4.0, 4.0]])),
                call("update_step", np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0]]), np.array([0, 0, 1]),
                     np.array([[0.0, 1.0], [4.0, 4.0]]))],
        hidden=[call("assign_step", X_blobs5, init_blobs5, note="(5-D, 4 centres)"),
                call("assign_step", ties_X, ties_centres, note="(ties)"),
                call("update_step", X_blobs5, rng.integers(0, 4, 60), init_blobs5, weight=1.5,
                     note="(5-D, 4 centres)"),
                call("update_step", X_far, rng.integers(0, 2, 30), init_far, weight=1.5, warnings="error",
                     note="(a centre with no rows)")],
    ),
    Question(
        "q2", points=3, title="The k-means objective and the silhouette score",
        public=[call("kmeans_objective", np.array([[0.0, 0.0], [0.0, 2.0]]), np.array([[0.0, 1.0]]),
                     np.array([0, 0])),
                call("silhouette", np.array([[0.0], [1.0], [5.0], [6.0]]), np.array([0, 0, 1, 1]))],
        hidden=[call("kmeans_objective", X_sil3, centres_obj, labels_sil3, note="(4-D)"),
                call("silhouette", X_sil3, labels_sil3, expected=silhouette_score(X_sil3, labels_sil3),
                     weight=2, note="(3 clusters, against scikit-learn)"),
                call("silhouette", X_sil, labels_sil, expected=silhouette_score(X_sil, labels_sil),
                     weight=2, note="(labels not 0..k-1, a singleton)")],
    ),
    Question(
        "q3", points=3, title="PCA by SVD with a sign convention",
        public=[call("pca_fit", np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]), 1)],
        hidden=[call("pca_fit", X_pca, 3, expected=sklearn_pca(X_pca, 3), rtol=1e-6, atol=1e-9, weight=3,
                     note="(against scikit-learn)"),
                call("pca_fit", X_pca_wide, 5, expected=sklearn_pca(X_pca_wide, 5), rtol=1e-6, atol=1e-9,
                     weight=2, note="(fewer rows than columns)")],
    ),
    Question(
        "q4", points=3, title="Anomaly scores and the AUC",
        public=[call("anomaly_scores", np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.0, 0.0], [1.0, 1.0]])),
                call("roc_auc", np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))],
        hidden=[call("anomaly_scores", X_rec, X_rec_hat, weight=1.5),
                call("roc_auc", scores_auc, labels_auc, expected=roc_auc_score(labels_auc, scores_auc),
                     weight=1.5, note="(against scikit-learn)"),
                call("roc_auc", scores_ties, labels_ties, expected=roc_auc_score(labels_ties, scores_ties),
                     weight=2, note="(tied scores)")],
    ),
    Question(
        "q5", points=2, title="Output size of a transposed convolution",
        public=[call("conv_transpose_output_size", 4, 3, kwargs={"stride": 2, "padding": 1,
                                                                  "output_padding": 1})],
        hidden=[call("conv_transpose_output_size", 7, 4, kwargs={"stride": 3, "padding": 2},
                     expected=torch_conv_transpose_size(7, 4, 3, 2), note="(against torch)"),
                call("conv_transpose_output_size", 5, 3, kwargs={"stride": 1, "padding": 0, "output_padding": 1,
                                                                  "dilation": 2},
                     expected=torch_conv_transpose_size(5, 3, 1, 0, 1, 2), note="(dilation, against torch)"),
                call("conv_transpose_output_size", 1, 1, expected=1, note="(the smallest case)"),
                raises("conv_transpose_output_size", 4, 3, kwargs={"stride": 2, "output_padding": 2},
                       exception=ValueError, note="(output_padding too large)"),
                raises("conv_transpose_output_size", 1, 2, kwargs={"padding": 1},
                       exception=ValueError, note="(empty output)")],
    ),
    Question(
        "q6", points=3, title="Max pooling with indices and max-unpooling",
        public=[call("maxpool_with_indices", np.arange(16.0).reshape(1, 1, 4, 4), 2)],
        hidden=[call("maxpool_with_indices", maps_a, 2, expected=torch_pool(maps_a, 2), weight=1.5,
                     note="(against torch)"),
                call("maxpool_with_indices", maps_odd, 3, expected=torch_pool(maps_odd, 3),
                     note="(windows that do not fill the map, against torch)"),
                call("maxpool_with_indices", maps_ties, 2, expected=torch_pool(maps_ties, 2),
                     note="(ties, against torch)"),
                call("max_unpool", *torch_pool(maps_a, 2), (8, 6), expected=torch_unpool(maps_a, 2, (8, 6)),
                     weight=1.5, note="(against torch)"),
                call("max_unpool", pooled_3, indices_3, (7, 9), expected=torch_unpool(maps_odd, 3, (7, 9)),
                     note="(output larger than the pooled windows, against torch)")],
    ),
    Question(
        "q7", points=4, title="An autoencoder with an 8-number code",
        # Fraction of images rebuilt with MSE < 0.02: PCA with 8 components reaches about 0.38
        # on these digits, the notebook's untuned 40-epoch autoencoder about 0.70, the
        # reference (width 128, 100 epochs) about 0.88.
        public=[accuracy("scorer", X_val, np.ones(len(X_val), dtype=bool), thresholds={0.70: 0.5, 0.80: 1.0},
                         note="(validation images)")],
        hidden=[accuracy("scorer", X_heldout, np.ones(len(X_heldout), dtype=bool),
                         thresholds={0.70: 0.5, 0.80: 1.0}, weight=4, note="(held-out digits)")],
    ),
]
