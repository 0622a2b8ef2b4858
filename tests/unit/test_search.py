"""Search on the shipped knowledge base: named phrasings, English and Chinese, and the expected
entry among the first three hits."""

from __future__ import annotations

import pytest

from kb.search import QueryError, number_signals, search, shape_signals
from kb.text import normalize

# (name, query, expected id): the expected entry must be in the top 3.
CASES: list[tuple[str, str, str]] = [
    # the issue's own phrasings
    ("issue-87-33", "loss stuck at 87.33", "stuck-87-3365"),
    ("issue-87-3356-seed-swap", "87.3356", "stuck-87-3365"),
    ("issue-zh-0693", "loss一直是0.693", "stuck-at-chance"),
    ("issue-val-up-train-down", "val loss going up while train loss goes down", "overfitting"),
    ("issue-zh-trad-not-falling", "訓練loss不下降", "loss-not-decreasing"),
    ("issue-nan-after-3-epochs", "my loss is nan after 3 epochs", "nan-loss"),
    ("issue-acc-0.5", "accuracy is always 0.5", "stuck-at-chance"),
    ("issue-same-class", "it always predicts the same class", "stuck-at-chance"),
    ("issue-acc-10pct", "acc stays at 10%", "stuck-at-chance"),
    ("issue-ln100", "stuck at 4.6", "stuck-at-chance"),
    ("issue-ln65536", "about 11.09", "stuck-at-chance"),
    # the 87.3365 family
    ("caffe-87", "caffe loss = 87.3365 from the second iteration", "stuck-87-3365"),
    ("87-336", "training loss always 87.336", "stuck-87-3365"),
    ("zh-87", "loss一直等于87.33", "stuck-87-3365"),
    ("zh-trad-87", "loss保持87.3365不變", "stuck-87-3365"),
    ("half-clamp", "loss stays at 43.67", "stuck-87-3365"),
    ("flt-min", "FLT_MIN 1.17549435e-38 loss", "stuck-87-3365"),
    # chance level
    ("0693-binary", "binary classification loss stuck at 0.6931", "stuck-at-chance"),
    ("ln10", "loss stays at 2.302 on cifar10", "stuck-at-chance"),
    ("ln1000", "imagenet training loss stuck at 6.907", "stuck-at-chance"),
    ("acc-25", "validation accuracy stuck at 25% with 4 classes", "stuck-at-chance"),
    ("zh-acc-50", "准确率一直是50%", "stuck-at-chance"),
    ("zh-same-class", "模型总是预测同一类", "stuck-at-chance"),
    ("vgg-0693", "VGG16 two classes loss 0.693147 does not converge", "stuck-at-chance"),
    # other clamps
    ("bce-100", "BCELoss stuck at 100", "stuck-at-clamp"),
    ("keras-16", "keras binary crossentropy loss stuck at 16.118", "stuck-at-clamp"),
    ("fp16-9.7", "loss constant 9.7041 with mixed precision", "stuck-at-clamp"),
    # constant
    (
        "exactly-constant",
        "loss is exactly the same value every epoch, weights not updating",
        "stuck-constant",
    ),
    ("zh-constant", "loss一直不变，参数没有更新", "stuck-constant"),
    # nan
    ("nan-keras", "loss: nan in keras", "nan-loss"),
    ("nan-yolo", "YOLOv5 box_loss becomes nan", "nan-loss"),
    ("nan-zh", "loss变成nan", "nan-loss"),
    ("nan-zh-trad", "訓練時loss出現nan", "nan-loss"),
    ("nan-fp16", "NaN loss when training with fp16 AMP", "nan-loss"),
    ("qnan", "loss = 1.#QNAN", "nan-loss"),
    # diverging
    ("explodes", "loss explodes to very large values", "diverging"),
    ("inf", "training loss goes to infinity", "diverging"),
    ("zh-diverge", "loss越来越大，发散了", "diverging"),
    # oscillating / spikes
    ("fluctuates", "loss fluctuates a lot and does not converge", "oscillating"),
    ("zh-oscillate", "loss震荡很厉害", "oscillating"),
    ("spike", "loss suddenly jumps up then comes back down", "spikes"),
    ("zh-spike", "loss突然变大然后又下降", "spikes"),
    # plateau / slow
    ("plateau", "loss plateaus after a few epochs", "plateau"),
    ("zh-plateau", "train loss和test loss都趋于不变", "plateau"),
    ("slow", "loss decreasing very slowly", "slow-decrease"),
    ("zh-slow", "loss下降很慢", "slow-decrease"),
    # the five train/test cases of the seed
    ("seed-still-learning", "train loss decreasing and test loss decreasing", "still-learning"),
    ("seed-overfit-zh", "train loss不断下降，test loss趋于不变", "overfitting"),
    (
        "seed-data-problem",
        "train loss flat but test loss keeps decreasing",
        "train-flat-val-falling",
    ),
    ("seed-data-problem-zh", "train loss 趨於不變,test loss不斷下降", "train-flat-val-falling"),
    ("seed-both-rising", "both train and test loss keep increasing", "both-rising"),
    ("seed-both-rising-zh", "train loss 不斷上公升,test loss不斷上公升", "both-rising"),
    (
        "overfit-classic",
        "Why does my validation loss increase while training loss decreases?",
        "overfitting",
    ),
    ("overfit-zh", "验证集loss上升", "overfitting"),
    ("overfit-word", "model is overfitting", "overfitting"),
    ("overfit-zh-trad", "過擬合怎麼辦", "overfitting"),
    # val below train, zero, negative, periodic
    ("val-below", "validation loss lower than training loss", "val-below-train"),
    ("val-below-zh", "验证集loss比训练集loss低", "val-below-train"),
    ("zero", "loss is 0.0000 from the first epoch", "zero-loss"),
    ("zero-gan", "discriminator loss goes to zero", "zero-loss"),
    ("zero-zh", "loss为0", "zero-loss"),
    ("negative", "negative loss value", "negative-loss"),
    ("negative-dice", "dice loss is negative", "negative-loss"),
    ("negative-number", "loss is -0.39 after 100 epochs", "negative-loss"),
    ("negative-zh", "loss为负数", "negative-loss"),
    ("periodic", "loss has a sawtooth pattern that repeats every epoch", "periodic"),
    ("periodic-zh", "loss周期性波动", "periodic"),
    # general
    ("not-decreasing", "training loss does not decrease", "loss-not-decreasing"),
    ("not-converging", "model not converging", "loss-not-decreasing"),
    ("zh-simple", "loss不下降", "loss-not-decreasing"),
    ("triplet-facenet", "facenet triplet loss不收斂", "loss-not-decreasing"),
    # causes, checks and fixes by name
    ("cause-bn", "frozen batch norm use_global_stats fine-tuning", "frozen-batchnorm-finetune"),
    ("fix-lr", "lower the learning rate to 0.01", "lower-learning-rate"),
    ("check-grad", "gradient check numerical gradient", "check-gradient-numerically"),
    ("check-overfit-batch", "overfit a single batch", "check-overfit-one-batch"),
    ("zh-lr-high", "学习率太大", "lr-too-high"),
    ("typo", "los stuk at 87.33", "stuck-87-3365"),
    ("typo-overfit", "overfiting", "overfitting"),
]


@pytest.mark.parametrize(("query", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_expected_entry_is_in_the_top_three(query: str, expected: str) -> None:
    hits = search(query, 3)
    assert expected in [h.id for h in hits], [(h.id, h.score) for h in hits]


def test_the_table_has_sixty_cases_in_both_languages() -> None:
    chinese = [c for c in CASES if any("\u4e00" <= ch <= "\u9fff" for ch in c[1])]
    assert len(CASES) >= 60 and len(chinese) >= 15


def test_hits_are_sorted_and_scored_between_zero_and_one() -> None:
    hits = search("loss is nan", 10)
    assert len(hits) == 10
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_simplified_and_traditional_queries_agree() -> None:
    assert search("训练loss不下降", 3)[0].id == search("訓練loss不下降", 3)[0].id


@pytest.mark.parametrize("query", ["", "   ", "!!!"])
def test_a_query_without_words_is_refused(query: str) -> None:
    with pytest.raises(QueryError):
        search(query)


def test_counts_are_not_read_as_loss_values() -> None:
    assert number_signals(normalize("nan after 3 epochs")) == [("nan-loss", 0.7, "nan")]


def test_the_sentence_shape_gives_the_split_directions() -> None:
    assert (
        shape_signals(normalize("val loss going up while train loss goes down"))[0][0]
        == "overfitting"
    )
    assert shape_signals(normalize("训练集loss下降，验证集loss上升"))[0][0] == "overfitting"
    assert shape_signals(normalize("increasing validation loss"))[0][0] == "overfitting"
