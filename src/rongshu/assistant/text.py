"""Text normalisation and tokenisation for Chinese and English messages.

``normalise`` folds full-width forms to half width (NFKC), converts traditional Chinese to
simplified (OpenCC's ``t2s`` tables), lower-cases, unifies a few banking spellings (转帐 → 转账,
Ⅱ类/2类 → 二类) and collapses white space. ``tokenize`` cuts Chinese runs with jieba (with
rongshu's product names added to its dictionary) and keeps Latin words and numbers whole.
Nothing is downloaded: jieba and OpenCC ship their dictionaries inside their packages.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

import jieba
from opencc import OpenCC

# Words jieba should keep whole (product names and banking terms it does not know).
DOMAIN_WORDS = (
    "一类户",
    "二类户",
    "三类户",
    "一类账户",
    "二类账户",
    "三类账户",
    "悦生活",
    "快贷",
    "善融商务",
    "善融e贷",
    "小微",
    "榕树",
    "快捷支付",
    "扫码支付",
    "付款码",
    "收款码",
    "挂失",
    "解挂",
    "补卡",
    "验证码",
    "动态码",
    "限额",
    "手续费",
    "网点",
    "排队号",
    "取号",
    "理财",
    "定期",
    "活期",
    "跨行",
    "行内",
    "流水",
    "对账单",
    "生活缴费",
    "水电煤",
    "担保交易",
    "人工客服",
    "登录密码",
    "交易密码",
    "支付密码",
    "手机银行",
    "风险测评",
)

_VARIANTS = (
    (re.compile(r"转帐"), "转账"),
    (re.compile(r"帐户"), "账户"),
    (re.compile(r"帐号"), "账号"),
    (re.compile(r"(?<![a-z])(?:iii|3)\s*类"), "三类"),
    (re.compile(r"(?<![a-z])(?:ii|2)\s*类"), "二类"),
    (re.compile(r"(?<![a-z])(?:i|1)\s*类"), "一类"),
    (re.compile(r"(?<![a-z])type\s*(?:iii|3)(?![a-z0-9])"), "type-iii"),
    (re.compile(r"(?<![a-z])type\s*(?:ii|2)(?![a-z0-9])"), "type-ii"),
    (re.compile(r"(?<![a-z])type\s*(?:i|1)(?![a-z0-9])"), "type-i"),
    # Colloquial forms customers type (咋 = 怎么, 啥 = 什么, a trailing 不/么 asks a question).
    (re.compile(r"干嘛"), "干什么"),
    (re.compile(r"咋"), "怎么"),
    (re.compile(r"啥"), "什么"),
    (re.compile(r"(?<=[\u4e00-\u9fff])(?<!什|怎|这|那|多|要)么(?=[\s?？!！。.]*$)"), "吗"),
    (re.compile(r"(?<=[\u4e00-\u9fff])(?<![不没])不(?=[\s?？!！。.]*$)"), "吗"),
    (re.compile(r"登陆"), "登录"),
    (re.compile(r"\s+"), " "),
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_TOKENS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+(?:[-'][a-z0-9]+)*")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with _lock:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word in DOMAIN_WORDS:
            tokenizer.add_word(word, freq=200_000)
        return tokenizer


def normalise(text: str) -> str:
    """Canonical form of a message: NFKC (full → half width), simplified, lower case."""
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = _converter().convert(text)
    text = text.lower()
    for pattern, replacement in _VARIANTS:
        text = pattern.sub(replacement, text)
    return text.strip()


def has_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def detect_language(text: str) -> str:
    """``zh-hans`` when the message contains Chinese characters, else ``en``."""
    return "zh-hans" if has_chinese(text) else "en"


def tokenize(text: str) -> list[str]:
    """Words of a *normalised* text: jieba for Chinese runs, whole Latin words and numbers."""
    tokens: list[str] = []
    for match in _TOKENS.finditer(text):
        run = match.group()
        if _CJK.match(run):
            tokens.extend(word for word in _jieba().lcut(run, HMM=True) if word.strip())
        else:
            tokens.append(run)
    return tokens


def analyse(text: str) -> list[str]:
    """normalise + tokenize, for callers holding raw text."""
    return tokenize(normalise(text))
