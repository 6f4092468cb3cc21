"""What demo customers write about: per topic the subjects, first messages and replies, in zh and en.

Texts are str.format templates; the ticket builder supplies every placeholder used here
({amount}, {plan}, {new_plan}, {country}, {area}, {days}, {operator}, {number}, {name}).
"""

# ruff: noqa: RUF001  (Chinese text takes full-width punctuation; it is right here, not a look-alike)
from __future__ import annotations

from dataclasses import dataclass

Texts = dict[str, tuple[str, ...]]  # language ("zh", "en") -> alternatives


@dataclass(frozen=True)
class Topic:
    key: str
    unit: str  # the department key that handles it (see content.DEPARTMENTS)
    tags: tuple[str, ...]
    weight: int
    resolution_hours: int | None  # overrides the priority's resolution target (formal complaints: 15 days)
    subjects: Texts
    inbound: Texts  # the customer's first message
    resolution: Texts  # the agent's reply that solves it
    notes: Texts  # internal notes while handling


TOPICS = (
    Topic(
        key="billing_dispute",
        unit="billing",
        tags=("billing",),
        weight=18,
        resolution_hours=None,
        subjects={
            "zh": ("话费争议：本月多扣了{amount}元", "账单异常，流量费用不对", "未订购的增值业务被扣费", "话费突然变高，要求核实"),
            "en": (
                "Unexpected charge of ¥{amount} on my bill",
                "Data charges on my statement look wrong",
                "Charged for a service I never ordered",
            ),
        },
        inbound={
            "zh": (
                "你好，我用的是{plan}，这个月账单多出{amount}元，我没有办理过其他业务，请帮忙核实并退还。",
                "账单里有一项“视频彩铃”包月费{amount}元，我从来没订过，请取消并退款。",
                "我上个月基本在家连WiFi，流量却超出套餐，扣了{amount}元，是不是计费有问题？",
            ),
            "en": (
                "Hello, I am on {plan} and this month's bill is ¥{amount} higher than usual. I added nothing. Please check and refund.",
                "There is a monthly fee of ¥{amount} for a ringtone service I never subscribed to. Please cancel it and refund me.",
                "I was on WiFi most of last month but was charged ¥{amount} for extra data. Could you check the metering?",
            ),
        },
        resolution={
            "zh": (
                "经核实，该笔{amount}元为误订增值业务费用，已为您退订并退还至话费账户，预计24小时内到账。",
                "已核对详单，超出部分为后台应用自动更新产生的流量。本次为您申请减免{amount}元，并已开通流量提醒。",
            ),
            "en": (
                "We checked: the ¥{amount} was a value-added service added in error. It is cancelled and refunded within 24 hours.",
                "The extra data came from background app updates. As a goodwill gesture we credited ¥{amount} and set up usage alerts.",
            ),
        },
        notes={
            "zh": ("已调取近三个月详单，增值业务订购来源为第三方渠道，申请退费。", "退费金额{amount}元已提交账务审批。"),
            "en": ("Pulled three months of usage records; the subscription came via a third-party channel. Refund requested.",),
        },
    ),
    Topic(
        key="no_signal",
        unit="network",
        tags=("network", "signal"),
        weight=14,
        resolution_hours=48,
        subjects={
            "zh": ("信号差，{area}经常无服务", "手机信号时有时无，通话断线", "{area}5G信号弱"),
            "en": ("No signal at {area}", "Calls keep dropping, weak signal", "Weak 5G coverage at {area}"),
        },
        inbound={
            "zh": (
                "最近一周在{area}手机一直显示无服务，打电话经常断，已经重启过手机也换过卡槽，请尽快处理。",
                "{area}的信号特别差，5G经常掉到4G甚至没信号，影响工作，麻烦安排人看一下。",
            ),
            "en": (
                "For a week my phone shows no service at {area}. Calls drop all the time. I already restarted the phone. Please fix it.",
                "Signal at {area} is very weak; 5G keeps falling back to 4G or nothing at all. It affects my work.",
            ),
        },
        resolution={
            "zh": (
                "经网络优化，{area}附近基站已完成参数调整，信号已恢复正常。如仍有问题请随时联系我们。",
                "该区域新增的室内分布系统已开通，请您重启手机后测试，目前覆盖已明显改善。",
            ),
            "en": (
                "Network engineers retuned the cell serving {area}; coverage is back to normal. Let us know if it happens again.",
                "A new indoor antenna system now covers the area. Please restart your phone; the signal should be much better.",
            ),
        },
        notes={
            "zh": ("已派网络运维核查，该区域基站正在扩容，预计{days}天内完成。", "路测结果：RSRP约-115dBm，需增补室分。"),
            "en": ("Network ops checked: the site is being expanded, expected within {days} days.",),
        },
    ),
    Topic(
        key="roaming",
        unit="frontline",
        tags=("roaming",),
        weight=9,
        resolution_hours=None,
        subjects={
            "zh": ("在{country}无法使用国际漫游", "国际漫游费用疑问", "出国前咨询漫游套餐"),
            "en": ("Roaming not working in {country}", "Question about roaming charges from {country}", "Which roaming pack for my trip?"),
        },
        inbound={
            "zh": (
                "我现在在{country}，手机能收短信但不能上网，已经开通了国际漫游，请帮忙看看。",
                "下周去{country}出差{days}天，请问有什么划算的漫游流量包？",
            ),
            "en": (
                "I am in {country} now. I can receive SMS but have no data, although roaming is enabled. Please help.",
                "I travel to {country} next week for {days} days. Which roaming data pack do you recommend?",
            ),
        },
        resolution={
            "zh": ("已为您开通{country}漫游日包（30元/天），请在手机设置中打开“数据漫游”后重启即可使用。",),
            "en": ("We added the {country} daily roaming pack (¥30/day). Turn on 'Data roaming' in your phone settings and restart.",),
        },
        notes={
            "zh": ("用户漫游权限正常，拜访地网络为{country}当地运营商。",),
            "en": ("Roaming profile OK; visited network is a {country} partner.",),
        },
    ),
    Topic(
        key="package_change",
        unit="frontline",
        tags=("plan",),
        weight=14,
        resolution_hours=None,
        subjects={
            "zh": ("套餐变更：想换成{new_plan}", "申请降低套餐档位", "套餐变更何时生效？"),
            "en": ("Change my plan to {new_plan}", "Downgrade my monthly plan", "When does my plan change take effect?"),
        },
        inbound={
            "zh": (
                "你好，我现在是{plan}，想改成{new_plan}，请问下个月能生效吗？有没有违约金？",
                "现在的{plan}用不完，想换个便宜点的，麻烦帮我办理。",
            ),
            "en": (
                "Hi, I am on {plan} and would like to switch to {new_plan}. Can it start next month? Any early termination fee?",
                "I never use all of {plan}. Please move me to something cheaper.",
            ),
        },
        resolution={
            "zh": ("已为您预约变更为{new_plan}，次月1日生效，无违约金。变更成功后会有短信通知。",),
            "en": ("Your change to {new_plan} is booked for the 1st of next month, with no fee. You will get an SMS when it is done.",),
        },
        notes={
            "zh": ("用户有合约期，核实合约到期日后再办理。",),
            "en": ("Customer has a contract; checked the end date before changing.",),
        },
    ),
    Topic(
        key="broadband_fault",
        unit="field",
        tags=("broadband",),
        weight=12,
        resolution_hours=48,
        subjects={
            "zh": ("宽带故障：光猫红灯闪烁", "家里宽带断网{days}天了", "宽带网速很慢"),
            "en": ("Broadband down, modem LOS light blinking", "No home internet for {days} days", "Broadband very slow"),
        },
        inbound={
            "zh": (
                "家里宽带从昨天晚上开始断网，光猫LOS灯一直闪红灯，重启没用，请尽快派人上门。",
                "千兆宽带实测只有50M，晚上更慢，孩子上网课受影响。",
            ),
            "en": (
                "My home broadband has been down since last night. The modem's LOS light blinks red; restarting does not help.",
                "I pay for gigabit broadband but get about 50 Mbps, worse in the evening.",
            ),
        },
        resolution={
            "zh": ("装维师傅已上门，更换了损坏的尾纤，宽带已恢复，测速正常。", "已为您更换光猫并调整端口，现实测速率920M。"),
            "en": (
                "Our technician replaced a damaged fibre patch cord; your broadband works again and the speed test is normal.",
                "We replaced the modem and moved your port; a speed test now shows 920 Mbps.",
            ),
        },
        notes={
            "zh": ("已预约装维上门，时间为明天上午9-12点。", "OLT侧光功率-28dBm，疑似入户光缆故障。"),
            "en": ("Field visit booked for tomorrow 9-12.",),
        },
    ),
    Topic(
        key="complaint",
        unit="complaints",
        tags=("complaint",),
        weight=10,
        resolution_hours=360,
        subjects={
            "zh": ("投诉：营业厅服务态度差", "投诉：多次反映问题未解决", "投诉：未经同意办理业务"),
            "en": (
                "Complaint about staff at a service store",
                "Complaint: my issue is still not fixed",
                "Complaint: a service was added without consent",
            ),
        },
        inbound={
            "zh": (
                "我已经第三次反映这个问题了，每次都说会处理但一直没有结果，我要正式投诉，如再不解决将向工信部申诉。",
                "营业厅工作人员在我不知情的情况下给我办理了{new_plan}，我要求恢复原套餐并给出说法。",
            ),
            "en": (
                "Third time I report this. Each time I am told it will be handled, then nothing. I am filing a formal complaint.",
                "A store employee changed me to {new_plan} without my consent. I want my old plan back and an explanation.",
            ),
        },
        resolution={
            "zh": ("非常抱歉给您带来不便。经调查情况属实，已恢复您的原套餐，退还差价{amount}元，并对相关人员进行了处理。",),
            "en": (
                "We apologise. Our review confirmed your account: your old plan is restored, ¥{amount} refunded, and the staff addressed.",
            ),
        },
        notes={
            "zh": ("升级投诉，已通知营业厅负责人，要求{days}日内书面回复。",),
            "en": ("Escalated complaint; store manager to reply in writing within {days} days.",),
        },
    ),
    Topic(
        key="number_porting",
        unit="frontline",
        tags=("porting",),
        weight=6,
        resolution_hours=None,
        subjects={
            "zh": ("携号转网咨询", "携号转网被拒，提示有合约", "转入后短信收不到"),
            "en": ("Number porting question", "Port-out refused because of a contract", "No SMS after porting in"),
        },
        inbound={
            "zh": (
                "我想把号码从{operator}转到你们这边，需要准备什么材料？多久能完成？",
                "申请携号转网时提示有未到期合约，但我的合约应该已经结束了，请核实。",
            ),
            "en": (
                "I want to port my number from {operator} to you. What do I need and how long does it take?",
                "My port request was refused for an active contract, but my contract should have ended. Please check.",
            ),
        },
        resolution={
            "zh": ("已核实您的合约已于上月到期，系统标记已更新，您现在可以重新发起携号转网申请。",),
            "en": ("Your contract ended last month and the record is fixed; you can submit the porting request again now.",),
        },
        notes={"zh": ("携转资格查询：存在未结清账单{amount}元。",), "en": ("Porting eligibility check: outstanding bill of ¥{amount}.",)},
    ),
    Topic(
        key="slow_5g",
        unit="network",
        tags=("5g", "network"),
        weight=8,
        resolution_hours=72,
        subjects={"zh": ("5G网速慢", "开了5G套餐却显示4G"), "en": ("Slow 5G data", "5G plan but phone shows 4G")},
        inbound={
            "zh": ("我办的是5G套餐，但是在{area}一直只有4G，测速才10M左右，是不是没开通5G？",),
            "en": ("I pay for a 5G plan, but at {area} I only get 4G and about 10 Mbps. Is 5G enabled on my line?",),
        },
        resolution={
            "zh": ("已为您开通5G SA功能，请重启手机并在设置中选择“5G优先”。",),
            "en": ("We enabled 5G standalone on your line. Restart the phone and choose '5G preferred' in settings.",),
        },
        notes={"zh": ("HSS签约缺少5G SA，已补签。",), "en": ("Subscriber profile lacked 5G SA; added.",)},
    ),
    Topic(
        key="payment",
        unit="billing",
        tags=("billing", "payment"),
        weight=6,
        resolution_hours=None,
        subjects={"zh": ("充值未到账", "缴费后仍然停机"), "en": ("Top-up not received", "Line still barred after payment")},
        inbound={
            "zh": ("我昨天通过微信充值了{amount}元，到现在还没到账，手机也停机了，请尽快处理。",),
            "en": ("I topped up ¥{amount} via WeChat Pay yesterday but it has not arrived and my line is barred.",),
        },
        resolution={
            "zh": ("已查到您的充值记录，款项已补入账户并为您复机。",),
            "en": ("We found your payment; it is now credited and your line is active again.",),
        },
        notes={"zh": ("支付渠道对账延迟，已手工补款。",), "en": ("Payment gateway reconciliation delayed; credited manually.",)},
    ),
    Topic(
        key="sim_replacement",
        unit="frontline",
        tags=("sim",),
        weight=5,
        resolution_hours=None,
        subjects={"zh": ("补换SIM卡", "手机卡丢失，申请挂失"), "en": ("Replace my SIM card", "Lost my phone, please block the SIM")},
        inbound={
            "zh": ("手机丢了，请马上帮我挂失，并告诉我怎么补卡。",),
            "en": ("I lost my phone. Please block my SIM now and tell me how to get a replacement.",),
        },
        resolution={
            "zh": ("已为您办理挂失，可携带身份证到任意营业厅补卡，或在App申请eSIM。",),
            "en": ("Your SIM is blocked. Bring your ID to any store for a new SIM, or request an eSIM in the app.",),
        },
        notes={"zh": ("已核验身份（服务密码+身份证后四位）。",), "en": ("Identity verified (service PIN + ID digits).",)},
    ),
)

ACKNOWLEDGEMENTS: Texts = {
    "zh": (
        "{name}您好，已收到您反映的问题，工单号#{number}，我们正在核实，请耐心等待。",
        "您好，感谢来电/来信，工单#{number}已受理，我们会尽快回复。",
    ),
    "en": (
        "Hello {name}, thank you for contacting us. Your case #{number} is open and we are looking into it.",
        "Hi {name}, we have received your request (#{number}) and will get back to you shortly.",
    ),
}

PENDING_QUESTIONS: Texts = {
    "zh": ("为便于核实，请提供机主身份证后四位及问题发生的具体时间和地点。", "请问问题发生时手机是否显示信号格数？方便发一张截图吗？"),
    "en": (
        "To verify, please send the last four digits of the account holder's ID and when and where this happened.",
        "Could you send a screenshot showing the signal bars when this happens?",
    ),
}

ON_HOLD_NOTES: Texts = {
    "zh": ("等待第三方（合作方/省公司）反馈，暂挂起。", "已转厂家处理，等待回复，预计{days}个工作日。"),
    "en": (
        "Waiting for the partner / provincial company to respond; on hold.",
        "Passed to the vendor, reply expected in {days} working days.",
    ),
}

CUSTOMER_FOLLOW_UPS: Texts = {
    "zh": ("请问处理得怎么样了？", "还是没有解决，请尽快处理。", "补充一下：今天早上又出现了同样的问题。"),
    "en": ("Any update on this?", "Still not fixed, please hurry.", "Adding to this: it happened again this morning."),
}

THANKS: Texts = {
    "zh": ("好的，已经恢复了，谢谢！", "收到，谢谢你们的处理。"),
    "en": ("It works now, thank you!", "Got it, thanks for your help."),
}

COUNTRIES = (("日本", "Japan"), ("泰国", "Thailand"), ("美国", "the USA"), ("英国", "the UK"), ("新加坡", "Singapore"), ("韩国", "Korea"))
AREAS = (
    ("小区地下车库", "the underground car park"),
    ("公司写字楼18层", "my office on the 18th floor"),
    ("地铁2号线站台", "the metro platform"),
    ("家里卧室", "my bedroom at home"),
    ("高铁上", "the high-speed train"),
    ("大学宿舍", "my university dorm"),
)
OTHER_OPERATORS = ("中国联通 China Unicom", "中国电信 China Telecom", "中国广电 China Broadnet")
EXTRA_TAGS = ("5g", "repeat-contact", "social-media", "escalated", "elderly-care")
