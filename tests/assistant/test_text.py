from __future__ import annotations

import pytest

from rongshu.assistant.text import analyse, detect_language, normalise, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ　１２３", "abc 123"),  # full-width letters, digits and space → half width
        ("銀行卡掛失了，怎麼辦？", "银行卡挂失了,怎么办?"),  # traditional → simplified
        ("轉帳限額", "转账限额"),  # 轉帳 → 转帐 → 转账
        ("Ⅱ类户每天能转多少", "二类户每天能转多少"),
        ("3类账户", "三类账户"),
        ("What is a Type II account?", "what is a type-ii account?"),
        ("  many   spaces  ", "many spaces"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_chinese_is_cut_into_words_with_the_banks_terms_kept_whole() -> None:
    assert tokenize(normalise("我的银行卡挂失了")) == ["我", "的", "银行卡", "挂失", "了"]
    words = analyse("二類户的轉帳限額")
    assert "二类户" in words and "限额" in words and "转账" in words


def test_latin_words_and_numbers_stay_whole() -> None:
    assert analyse("I'm still waiting for 2 cards!") == [
        "i'm",
        "still",
        "waiting",
        "for",
        "2",
        "cards",
    ]
    assert analyse("悦生活 limit 5000") == ["悦生活", "limit", "5000"]


def test_language_detection() -> None:
    assert detect_language("卡丢了") == "zh-hans"
    assert detect_language("I lost my card") == "en"
    assert detect_language("my 卡") == "zh-hans"


def test_colloquial_forms_are_normalised() -> None:
    assert normalise("二类户咋开") == "二类户怎么开"
    assert normalise("三类户是啥") == "三类户是什么"
    assert normalise("开户要钱不") == "开户要钱吗"
    assert normalise("转账收手续费么？") == "转账收手续费吗?"
    # … but not inside words: 什么 / 怎么 / 要不 / 能不能 stay.
    assert normalise("这是什么") == "这是什么"
    assert normalise("能不能转账") == "能不能转账"
    assert normalise("登陆密码") == "登录密码"
