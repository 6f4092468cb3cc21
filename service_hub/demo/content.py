"""Word pools for the demo operator: centres, departments, names, plans and mail domains."""

# ruff: noqa: RUF001  (Chinese text takes full-width punctuation; it is right here, not a look-alike)

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CentreSpec:
    code: str  # short prefix of every department code below it, e.g. "bj" -> "bj-billing"
    zh: str
    en: str
    weight: int  # share of customers whose home centre this is


@dataclass(frozen=True)
class UnitSpec:
    key: str
    zh: str
    en: str
    skills: tuple[str, ...]
    functions: tuple[str, ...] = ()  # what the unit does in a workflow (see workflows/definitions)


CENTRES = (
    CentreSpec("bj", "北京", "Beijing", 22),
    CentreSpec("sh", "上海", "Shanghai", 22),
    CentreSpec("gz", "广州", "Guangzhou", 18),
    CentreSpec("cd", "成都", "Chengdu", 14),
    CentreSpec("wh", "武汉", "Wuhan", 12),
    CentreSpec("xa", "西安", "Xi'an", 12),
)

DEPARTMENTS = (
    # The front line also dispatches (派单). The demo has no finance department: billing's finance
    # desk co-signs billing disputes; a real operator gives "finance" to its own department.
    UnitSpec("frontline", "一线客服", "Front line", ("general", "package", "roaming", "porting"), ("front_line", "dispatcher")),
    UnitSpec("billing", "账务", "Billing", ("billing", "payment"), ("billing", "finance")),
    UnitSpec("network", "网络运维", "Network operations", ("network", "5g", "broadband"), ("network_operations",)),
    UnitSpec("complaints", "投诉处理", "Complaints", ("complaint", "billing"), ("complaints",)),
    UnitSpec("vip", "VIP服务", "VIP service", ("vip", "billing", "roaming"), ("vip_service",)),
    UnitSpec("field", "现场服务", "Field service", ("broadband", "field", "network"), ("field_service",)),
)

FRONTLINE_GROUPS = (
    UnitSpec("hotline", "热线组", "Hotline group", ("phone",)),
    UnitSpec("online", "在线组", "Online group", ("chat", "email")),
)

# Agents per unit of every centre: (unit key, how many). Front line staff sit in its groups.
STAFFING = (("hotline", 3), ("online", 3), ("billing", 2), ("network", 2), ("complaints", 2), ("vip", 2), ("field", 1))

# (hanzi, pinyin): the pinyin builds e-mail addresses that look like the person's.
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("萧", "xiao"), ("田", "tian"), ("董", "dong"), ("潘", "pan"),
)  # fmt: skip

GIVEN_NAMES = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("建华", "jianhua"),
    ("晓明", "xiaoming"), ("子涵", "zihan"), ("浩然", "haoran"), ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("梓萱", "zixuan"),
    ("思远", "siyuan"), ("雨桐", "yutong"), ("俊杰", "junjie"), ("佳怡", "jiayi"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
    ("国庆", "guoqing"), ("文博", "wenbo"), ("一鸣", "yiming"), ("诗涵", "shihan"), ("嘉欣", "jiaxin"), ("天佑", "tianyou"),
)  # fmt: skip

ENGLISH_FIRST_NAMES = (
    "Emily", "James", "Olivia", "Daniel", "Sophie", "Michael", "Grace", "David", "Hannah", "Thomas",
    "Chloe", "Benjamin", "Laura", "Lucas", "Anna", "Oliver", "Mia", "Samuel", "Isabella", "Ethan",
    "Kevin", "Vivian", "Jason", "Cathy", "Eric", "Tina", "Leo", "Iris", "Tony", "Wendy",
)  # fmt: skip

ENGLISH_SURNAMES = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Martin", "Anderson", "Clarke", "Walker", "Wright",
    "Müller", "Schmidt", "Dubois", "Rossi", "Tanaka", "Kim", "Nguyen", "Chen", "Wong", "Lee",
)  # fmt: skip


@dataclass(frozen=True)
class PlanSpec:
    zh: str
    en: str
    fee: int  # monthly, yuan

    def name(self, language: str) -> str:
        return self.en if language == "en" else self.zh


PLANS = (
    PlanSpec("5G畅享套餐 129元", "5G Enjoy 129", 129),
    PlanSpec("5G畅享套餐 199元", "5G Enjoy 199", 199),
    PlanSpec("5G智享套餐 299元", "5G Smart 299", 299),
    PlanSpec("5G尊享套餐 599元", "5G Premier 599", 599),
    PlanSpec("4G飞享套餐 38元", "4G Fly 38", 38),
    PlanSpec("4G飞享套餐 58元", "4G Fly 58", 58),
    PlanSpec("全家享融合套餐 169元", "Family Bundle 169", 169),
    PlanSpec("千兆宽带融合套餐 239元", "Gigabit Broadband Bundle 239", 239),
    PlanSpec("花卡 19元", "Flower SIM 19", 19),
)

# Reserved example domains (RFC 2606): a demo reply must never reach a real mailbox.
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
AGENT_MAIL_DOMAIN = "servicehub.example"

# Chinese mobile prefixes in the national plan (China Mobile, Unicom, Telecom, Broadnet).
MOBILE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "178", "182",
    "183", "184", "187", "188", "198", "130", "131", "132", "155", "156", "166", "175", "176", "185", "186",
    "133", "153", "173", "177", "180", "181", "189", "191", "199", "192",
)  # fmt: skip

# Where English-speaking customers keep their WhatsApp number: (country code, national prefixes, digits after prefix).
FOREIGN_MOBILES = (("852", ("5", "6", "9"), 7), ("65", ("8", "9"), 7), ("44", ("77", "78", "79"), 8), ("1", ("415", "646", "206"), 7))

WECHAT_ACCOUNT = "wx-official"  # the operator's official WeChat account: openids belong to it
OPENID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

# Agents' notes on a few customers.
NOTES = (
    "老年用户，请耐心解释，优先电话联系。",
    "企业客户联系人，账单寄往公司。",
    "Prefers e-mail, works night shifts.",
    "曾多次投诉网络问题。",
)
