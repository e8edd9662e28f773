"""Plain values: exact round trips, strict decoding, honest comparisons and messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coursekit.grading.scoring import score_test
from coursekit.grading.spec import Question, accuracy, call, value
from coursekit.grading.values import UnsupportedValue, compare, decode, encode, to_plain


def roundtrip(obj):
    return decode(json.loads(json.dumps(encode(to_plain(obj)))))


def test_roundtrip_is_exact_for_arrays_numbers_and_structures():
    rng = np.random.default_rng(0)
    array = rng.normal(size=(3, 4))
    back = roundtrip(array)
    assert back.dtype == np.float64 and back.shape == (3, 4)
    assert np.array_equal(back, array)  # bit-exact, not just close
    assert roundtrip(np.arange(5, dtype=np.int32)).dtype == np.int32
    assert roundtrip(np.array([True, False])).tolist() == [True, False]
    loss, grad = roundtrip((np.float64(0.25), np.ones(2)))
    assert type(loss) is np.ndarray and loss.shape == () and float(loss) == 0.25
    assert roundtrip({"a": [1, 2.5, None, "s"]}) == {"a": [1, 2.5, None, "s"]}
    nan, inf = roundtrip([float("nan"), float("-inf")])
    assert np.isnan(nan) and inf == -np.inf


def test_to_plain_refuses_lying_objects():
    class Liar:
        def __eq__(self, other):
            return True

    class SneakyArray(np.ndarray):
        pass

    class SneakyFloat(float):
        pass

    for liar in (Liar(), np.zeros(2).view(SneakyArray), SneakyFloat(1.0), [Liar()],
                 {"k": Liar()}, {1: 2.0}, np.array(["text"]), np.array([object()])):
        with pytest.raises(UnsupportedValue):
            to_plain(liar)


def test_decode_refuses_what_encode_never_writes():
    good = encode(np.ones(3))
    for bad in ({**good, "dtype": "|O"}, {**good, "shape": [4]}, {**good, "extra": 1},
                {"__float__": "1e999"}, {"__ndarray__": "!!", "dtype": "<f8", "shape": [1]},
                {"anything": 1}):
        with pytest.raises((ValueError, TypeError)):
            decode(bad)


def test_compare_messages_say_what_is_wrong():
    expected = np.array([1.0, 2.0, 3.0])
    assert compare(expected, expected + 1e-9).ok
    shape = compare(expected, np.ones((3, 1)))
    assert not shape.ok and "shape mismatch: expected shape (3,), got (3, 1)" in shape.message
    nan = compare(expected, np.array([1.0, np.nan, 3.0]))
    assert not nan.ok and "NaN found" in nan.message
    wrong = compare(expected, np.array([1.0, 2.5, 3.0]))
    assert not wrong.ok and "first at index (1,): expected 2, got 2.5" in wrong.message
    assert compare(0.5, 0.5 + 1e-7).ok and not compare(0.5, 0.6).ok
    hidden = compare(expected, np.array([1.0, 2.5, 3.0]), reveal=False)
    assert hidden.message == ("1 of 3 values are not within 1e-05 relative (or 1e-08 "
                              "absolute) of the expected ones")
    assert "1 of 3 values are not within 1e-05 relative (or 1e-08 absolute) of the expected " \
        "ones; first at index (1,)" in wrong.message
    # a forgotten return: a hint, also inside a tuple
    assert compare(expected, None).message == "got None — did you forget `return`?"
    assert compare([0.5, expected], [0.5, None]).message == \
        "item 1: got None — did you forget `return`?"
    assert compare(None, None).ok
    assert "(not within 0.01 absolute)" in compare(0.5, 0.6, rtol=0, atol=0.01).message
    assert "2.5" not in hidden.message and "(3,)" not in compare(
        expected, np.ones(2), reveal=False).message
    tup = compare([0.5, np.ones(2)], [0.5, np.zeros(2)])
    assert not tup.ok and tup.message.startswith("item 1:")
    assert not compare([0.5, np.ones(2)], np.ones(2)).ok
    assert compare("a", "a").ok and not compare("a", 1.0).ok and not compare(1.0, "1.0").ok


def test_scores_split_points_by_weight_and_accuracy_thresholds():
    labels = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 1])
    question = Question("q9", points=4, public=[call("f", 1.0)],
                        hidden=[accuracy("model", np.zeros((10, 2)), labels,
                                         thresholds={0.8: 0.5, 0.9: 1.0}, weight=3)],
                        public_share=0.25)
    assert question.test_points(question.public[0]) == pytest.approx(1.0)
    assert question.test_points(question.hidden[0]) == pytest.approx(3.0)
    record = {"key": "hidden/0", "visibility": "hidden", "kind": "accuracy", "label": "acc",
              "points": 3.0, "thresholds": [[0.8, 0.5], [0.9, 1.0]],
              "expected": encode(labels), "rtol": 0, "atol": 0}
    predictions = labels.copy()
    assert score_test(record, {"value": predictions}).points == 3.0
    predictions[:2] = 1 - predictions[:2]  # 80 %
    partial = score_test(record, {"value": predictions})
    assert partial.points == 1.5 and partial.status == "partial"
    assert "accuracy 80.00% (8/10); full credit from 90.0%" == partial.message
    predictions[:3] = 1 - labels[:3]  # 70 %
    assert score_test(record, {"value": predictions}).points == 0.0
    assert "shape" in score_test(record, {"value": np.zeros(9)}).message
    assert score_test(record, {"error": "NameError: model"}).status == "error"
    assert score_test(record, None).points == 0.0


def test_authoring_api_rejects_bad_declarations():
    with pytest.raises(ValueError, match="Question id must look like 'q1'"):
        Question("1 bad", points=1, public=[value("x")])
    with pytest.raises(ValueError, match="has no tests"):
        Question("q1", points=1)
    with pytest.raises(ValueError, match="points must be >= 0"):
        Question("q1", points=-1, public=[value("x")])
    with pytest.raises(ValueError, match="target must be the name"):
        call("not a name")
    with pytest.raises(ValueError, match="rtol must be a number >= 0"):
        value("x", rtol=-1)
    with pytest.raises(ValueError, match="test inputs must be numbers"):
        call("f", object())
    with pytest.raises(ValueError, match="thresholds must map accuracies"):
        accuracy("m", np.zeros((2, 1)), np.array([0, 1]), thresholds={1.5: 1.0})
    with pytest.raises(ValueError, match="one row per label"):
        accuracy("m", np.zeros((3, 1)), np.array([0, 1]), thresholds={0.5: 1.0})
    with pytest.raises(TypeError, match="made with call\\(\\)"):
        Question("q1", points=1, public=["f(1) == 2"])


def test_feedback_wording_names_cells_as_the_student_sees_them():
    from coursekit.grading import messages

    answer = {"id": "answer-4", "kind": "answer", "questions": ["q4"]}
    source = '# my answer\ndef relu_layer_backward(dout, x, W, b):\n    return 1'
    assert messages.cell_label(answer, source) == \
        "the answer cell of q4, `def relu_layer_backward`"
    assert messages.cell_label({**answer, "questions": ["q4", "q5"]}, "x = 1") == \
        "the answer cell of q4 and q5, `x = 1`"
    stub = 'def f(x):\n    raise NotImplementedError("replace this line with your answer")'
    assert messages.cell_label(answer, 'raise NotImplementedError("...")') == \
        "the answer cell of q4"
    assert messages.cell_label(answer, stub) == "the answer cell of q4, `def f`"
    added = {"id": "added-1", "kind": "added", "after_label": "the answer cell of q4"}
    assert messages.cell_label(added, "helper = 2") == \
        "the cell you added after the answer cell of q4, `helper = 2`"
    assert messages.cell_label({"kind": "readonly"}, "X = load()") == \
        "the read-only cell, `X = load()`"
    assert messages.unanswered("q4") == \
        "not answered yet: the answer cell of q4 still raises NotImplementedError"
    assert messages.tolerance_words(1e-6, 0) == "within 1e-06 relative"
    assert messages.tolerance_words(0, 0.02) == "within 0.02 absolute"
    assert messages.tolerance_words(0, 0) == "exactly"
    assert messages.at_line("the answer cell of q1", 3) == "in the answer cell of q1, line 3"
    assert "`train` did not return within 60 s" in messages.timed_out("train", 60)
