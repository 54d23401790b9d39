"""Seeded demo data: 禾家优选 (Hejia Select), a grocery chain with 18 months of customer feedback.

``load(seed=…, responses=…, progress=…)`` builds one company (3 regions, 12 cities, 60 stores and two
service-desk teams), about 300 staff, the four template surveys with an anonymous link each and a QR
link per store, a few thousand customers, the responses with their answers, the feedback records
and the cases. The same seed on the same day gives the same rows. Numbers come from numpy, rows go in
with one multi-row statement per table (COPY on PostgreSQL), all in one transaction, so an
interrupted load leaves nothing behind and a finished one is recognised by the company's code.

The story in the numbers: stores differ (a latent quality per store and per CSI dimension); busy
days (weekends, the weeks before Chinese New Year, Golden Week, the summer) are busier and worse;
three stores improve and three decline over the period; an app update brings a new wave of app
complaints in the last weeks; comments in Chinese and English follow the score and the store's weak
points; detractors and serious complaints become cases, old ones closed, recent ones open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.actions import do_create_unit
from manyi.org.choices import Role, UnitKind
from manyi.org.models import OrgUnit, RoleAssignment
from manyi.responses.models import Answer, Response
from manyi.rules.models import EvaluationCursor, RuleMatch
from manyi.surveys.actions import do_create_link, do_create_survey, do_publish
from manyi.surveys.choices import LinkKind
from manyi.surveys.models import Survey, SurveyLink, SurveyVersion

COMPANY_CODE = "hejia"
COMPANY_NAME = {"zh-hans": "禾家优选", "en": "Hejia Select"}
MARKER_SURVEY = "hejia-store-csi"  # created in the same transaction as everything else
PASSWORD = "manyi-demo"
EMAIL_DOMAIN = "hejia.example.cn"
DAYS = 548  # 18 months, ending with yesterday (Asia/Shanghai)
TZ = ZoneInfo("Asia/Shanghai")
DEMO_STORE = "hejia-sh-xuhui"
IMPROVING_STORES = ("hejia-sh-xuhui", "hejia-gz-tianhe", "hejia-tj-nankai")
DECLINING_STORES = ("hejia-bj-fengtai", "hejia-szn-longgang", "hejia-nj-jiangning")
PARKING_STORES = frozenset(
    {
        "hejia-sh-jingan",
        "hejia-bj-dongcheng",
        "hejia-bj-xicheng",
        "hejia-gz-yuexiu",
        "hejia-szn-luohu",
        "hejia-xm-siming",
        "hejia-hz-xihu",
        "hejia-nj-gulou",
        "hejia-cs-furong",
    }
)
TEAM_STORES = ("hejia-sh-xuhui", "hejia-bj-chaoyang")
LOGINS = (
    ("demo-admin", "admin", "superuser, administrator of the whole company"),
    ("demo-cx", "cx_manager", "CX manager of the whole company"),
    ("demo-store", "unit_manager", "manager of one store"),
)

# (code, 中文, English, [(code, 中文, English, share of English answers, [(district code, 中文, English)])])
REGIONS: list[tuple[str, str, str, list[tuple[str, str, str, float, list[tuple[str, str, str]]]]]] = [
    (
        "east",
        "华东大区",
        "East China",
        [
            (
                "sh",
                "上海",
                "Shanghai",
                0.26,
                [
                    ("xuhui", "徐汇", "Xuhui"),
                    ("jingan", "静安", "Jing'an"),
                    ("pudong", "浦东", "Pudong"),
                    ("minhang", "闵行", "Minhang"),
                    ("changning", "长宁", "Changning"),
                    ("yangpu", "杨浦", "Yangpu"),
                    ("putuo", "普陀", "Putuo"),
                    ("baoshan", "宝山", "Baoshan"),
                ],
            ),
            (
                "hz",
                "杭州",
                "Hangzhou",
                0.12,
                [
                    ("xihu", "西湖", "Xihu"),
                    ("binjiang", "滨江", "Binjiang"),
                    ("gongshu", "拱墅", "Gongshu"),
                    ("xiaoshan", "萧山", "Xiaoshan"),
                    ("yuhang", "余杭", "Yuhang"),
                ],
            ),
            (
                "nj",
                "南京",
                "Nanjing",
                0.09,
                [
                    ("gulou", "鼓楼", "Gulou"),
                    ("xuanwu", "玄武", "Xuanwu"),
                    ("jianye", "建邺", "Jianye"),
                    ("jiangning", "江宁", "Jiangning"),
                ],
            ),
            (
                "su",
                "苏州",
                "Suzhou",
                0.14,
                [
                    ("gusu", "姑苏", "Gusu"),
                    ("sip", "工业园区", "Industrial Park"),
                    ("wuzhong", "吴中", "Wuzhong"),
                    ("kunshan", "昆山", "Kunshan"),
                ],
            ),
        ],
    ),
    (
        "north",
        "华北大区",
        "North China",
        [
            (
                "bj",
                "北京",
                "Beijing",
                0.22,
                [
                    ("chaoyang", "朝阳", "Chaoyang"),
                    ("haidian", "海淀", "Haidian"),
                    ("dongcheng", "东城", "Dongcheng"),
                    ("xicheng", "西城", "Xicheng"),
                    ("fengtai", "丰台", "Fengtai"),
                    ("shunyi", "顺义", "Shunyi"),
                    ("tongzhou", "通州", "Tongzhou"),
                ],
            ),
            (
                "tj",
                "天津",
                "Tianjin",
                0.07,
                [
                    ("heping", "和平", "Heping"),
                    ("nankai", "南开", "Nankai"),
                    ("hexi", "河西", "Hexi"),
                    ("binhai", "滨海新区", "Binhai"),
                ],
            ),
            (
                "qd",
                "青岛",
                "Qingdao",
                0.09,
                [
                    ("shinan", "市南", "Shinan"),
                    ("shibei", "市北", "Shibei"),
                    ("laoshan", "崂山", "Laoshan"),
                    ("huangdao", "黄岛", "Huangdao"),
                ],
            ),
            (
                "jn",
                "济南",
                "Jinan",
                0.05,
                [
                    ("lixia", "历下", "Lixia"),
                    ("shizhong", "市中", "Shizhong"),
                    ("huaiyin", "槐荫", "Huaiyin"),
                ],
            ),
        ],
    ),
    (
        "south",
        "华南大区",
        "South China",
        [
            (
                "gz",
                "广州",
                "Guangzhou",
                0.16,
                [
                    ("tianhe", "天河", "Tianhe"),
                    ("yuexiu", "越秀", "Yuexiu"),
                    ("haizhu", "海珠", "Haizhu"),
                    ("panyu", "番禺", "Panyu"),
                    ("baiyun", "白云", "Baiyun"),
                    ("liwan", "荔湾", "Liwan"),
                ],
            ),
            (
                "szn",
                "深圳",
                "Shenzhen",
                0.22,
                [
                    ("futian", "福田", "Futian"),
                    ("nanshan", "南山", "Nanshan"),
                    ("luohu", "罗湖", "Luohu"),
                    ("baoan", "宝安", "Bao'an"),
                    ("longgang", "龙岗", "Longgang"),
                    ("longhua", "龙华", "Longhua"),
                ],
            ),
            (
                "xm",
                "厦门",
                "Xiamen",
                0.12,
                [
                    ("siming", "思明", "Siming"),
                    ("huli", "湖里", "Huli"),
                    ("jimei", "集美", "Jimei"),
                    ("haicang", "海沧", "Haicang"),
                ],
            ),
            (
                "cs",
                "长沙",
                "Changsha",
                0.05,
                [
                    ("furong", "芙蓉", "Furong"),
                    ("yuelu", "岳麓", "Yuelu"),
                    ("tianxin", "天心", "Tianxin"),
                    ("kaifu", "开福", "Kaifu"),
                    ("yuhua", "雨花", "Yuhua"),
                ],
            ),
        ],
    ),
]
BIG_CITIES = frozenset({"sh", "bj", "gz", "szn"})

SURVEYS = ("store_csi", "relational_nps", "post_service_csat", "support_ces")
CSI, REL, CSAT, CES = range(4)
SURVEY_SHARE = (0.52, 0.33, 0.10, 0.05)
SURVEY_OFFSET = np.array([0.0, 0.1, 0.05, -0.35])  # people answering a support survey had a problem
MEDIAN_SECONDS = np.array([80.0, 40.0, 30.0, 45.0])
CHANNELS = ("qr", "link", "email", "sms")
QR, LINK, EMAIL, SMS = range(4)
CHANNEL_SHARE = np.array(
    [
        [0.88, 0.04, 0.00, 0.08],  # store CSI: the QR code at the till
        [0.12, 0.18, 0.40, 0.30],  # relational NPS: sent to members
        [0.40, 0.05, 0.15, 0.40],  # post-service CSAT
        [0.10, 0.20, 0.45, 0.25],  # CES after support
    ]
)
CUSTOMER_SHARE = np.array([0.07, 0.12, 0.75, 0.70])  # responses tied to a customer, by channel
DIMS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
THEMES = ("wait", "staff", "clean", "price", "quality", "environment", "parking", "membership", "app")
WAIT, STAFF, CLEAN, PRICE, QUALITY, ENVIRONMENT, PARKING, MEMBERSHIP, APP = range(9)
DIM_THEME = (CLEAN, QUALITY, WAIT, STAFF, STAFF)
NEG_BASE = np.array([0.22, 0.17, 0.10, 0.12, 0.14, 0.07, 0.03, 0.07, 0.08])
POS_BASE = np.array([0.12, 0.26, 0.15, 0.10, 0.18, 0.10, 0.02, 0.04, 0.03])
CES_THEME = np.array([0.7, 1.5, 0.3, 1.0, 1.0, 0.3, 0.2, 2.5, 3.0])
THEME_LABEL = {
    "wait": ("排队等候", "Waiting time"),
    "staff": ("员工态度", "Staff attitude"),
    "clean": ("清洁卫生", "Cleanliness"),
    "price": ("价格", "Price and value"),
    "quality": ("商品质量", "Product quality"),
    "environment": ("购物环境", "Store environment"),
    "parking": ("停车", "Parking"),
    "membership": ("会员权益", "Membership"),
    "app": ("App与线上购物", "App and online"),
}
TOUCHPOINT = {
    "wait": "checkout",
    "staff": "store_service",
    "clean": "store_environment",
    "price": "pricing",
    "quality": "fresh_food",
    "environment": "store_environment",
    "parking": "parking",
    "membership": "membership",
    "app": "app",
}
DOW_VOLUME = (0.85, 0.85, 0.9, 0.95, 1.1, 1.45, 1.35)
STORE_HOURS = np.array([1, 3, 4, 6, 9, 7, 5, 5, 6, 8, 10, 9, 6, 3], dtype=float)  # 08:00 … 21:00
HOME_HOURS = np.array([1, 2, 3, 3, 4, 5, 4, 3, 3, 4, 5, 6, 8, 9, 10, 8, 5], dtype=float)  # 07:00 … 23:00
CNY = {
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}
APP_WAVE_DAYS = 75  # an app release this long ago brought crashes and log-in trouble

# Case workflow. Each case draws how long its store takes to resolve it (log-normal, median 20 h,
# twice that at a slipping store, never more than CASE_MAX_HOURS); its status follows from its age
# now: resolved once that time has passed, closed when the customer confirmed a day or few later.
# So old cases are all closed with a root cause, and the open ones are the last days' work, a few
# of them past their deadline by hours or days.
CASE_STATUSES = ("new", "assigned", "in_progress", "waiting", "resolved", "closed")
CASE_MAX_HOURS = 10 * 24.0
PRIORITIES = ("low", "normal", "high", "urgent")
CASE_ROOT_CAUSE = {  # theme -> second-level root cause of the default taxonomy
    "wait": "process-waiting",
    "staff": "people-attitude",
    "clean": "environment-cleanliness",
    "price": "product-price",
    "quality": "product-quality",
    "environment": "environment-noise",
    "parking": "environment-access",
    "membership": "policy-membership",
    "app": "system-app",
}
CASE_RESOLUTIONS = ("apology", "explanation", "fix", "refund", "compensation")
CASE_RESOLUTION_SHARE = (0.30, 0.25, 0.20, 0.05, 0.20)
SLA_HOURS = ((48, 168), (24, 72), (4, 48), (2, 24))

FB_CHANNELS = ("phone", "counter", "web_form", "email", "review", "social")
FB_CHANNEL_SHARE = (0.30, 0.20, 0.13, 0.07, 0.20, 0.10)
FB_CHANNEL_LABEL = {
    "phone": ("电话投诉", "Phone complaint"),
    "counter": ("服务台投诉", "Counter complaint"),
    "web_form": ("网站留言", "Web form"),
    "email": ("邮件投诉", "E-mail complaint"),
    "review": ("网络评价", "Online review"),
    "social": ("社交媒体", "Social media"),
}
FB_PREFIX = {
    "phone": ("顾客来电反映：", "Customer phoned: "),
    "counter": ("顾客在服务台投诉：", "Complaint at the service desk: "),
    "web_form": ("", ""),
    "email": ("您好，", "Hello, "),
    "review": ("", ""),
    "social": ("@禾家优选 ", "@HejiaSelect "),
}
SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_BY_CHANNEL = {
    "phone": (0.20, 0.50, 0.25, 0.05),
    "counter": (0.25, 0.45, 0.25, 0.05),
    "web_form": (0.35, 0.45, 0.17, 0.03),
    "email": (0.35, 0.45, 0.17, 0.03),
    "review": (0.55, 0.35, 0.10, 0.0),
    "social": (0.10, 0.40, 0.40, 0.10),
}

# --- people ----------------------------------------------------------------------------------------

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
]  # fmt: skip
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("晓东", "xiaodong"),
    ("子涵", "zihan"), ("浩然", "haoran"), ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("思雨", "siyu"),
    ("俊杰", "junjie"), ("雨桐", "yutong"), ("佳怡", "jiayi"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
    ("建华", "jianhua"), ("晓燕", "xiaoyan"), ("文博", "wenbo"), ("梓萱", "zixuan"), ("一鸣", "yiming"),
]  # fmt: skip
EN_FIRST = ["Emma", "Liam", "Olivia", "Noah", "Sophie", "James", "Mia", "Lucas", "Anna", "David",
            "Sarah", "Michael", "Laura", "Daniel", "Julia", "Thomas"]  # fmt: skip
EN_LAST = ["Smith", "Miller", "Brown", "Wilson", "Taylor", "Martin", "Schmidt", "Dubois", "Rossi",
           "Kim", "Tanaka", "Nguyen", "Garcia", "Johnson"]  # fmt: skip
MOBILE_PREFIXES = ("138", "139", "136", "137", "135", "150", "151", "158", "186", "187", "188", "199")
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "outlook.com", "gmail.com")

# --- comment fragments -------------------------------------------------------------------------------
# Per theme and language: complaints ("neg"), praise ("pos") and what the customer asks for ("fix").
# Placeholders: {n} minutes, {k} tills, {y} yuan, {h} hours.

LEX: dict[str, dict[str, dict[str, list[str]]]] = {
    "wait": {
        "zh": {
            "neg": ["排队结账等了{n}分钟", "收银台只开了{k}个，队伍排到了货架中间", "自助收银机坏了好几台，排了很久的队",
                    "找店员帮忙等了半天也没人来", "生鲜称重的地方排了好长的队"],
            "pos": ["结账很快，基本不用排队", "自助收银很方便，一分钟就结完账了", "店员响应很及时",
                    "高峰期也开了足够的收银台"],
            "fix": ["希望高峰期多开几个收银台", "建议增加自助收银机", "请合理安排收银人手"],
        },
        "en": {
            "neg": ["Waited {n} minutes at the checkout", "Only {k} tills were open and the queue reached the aisles",
                    "Several self-checkouts were broken, so the queue took ages",
                    "Nobody came to help me for a long time", "The queue at the weighing counter was very long"],
            "pos": ["Checkout was quick, hardly any queue", "Self-checkout is handy, I was done in a minute",
                    "Staff came to help straight away", "Enough tills were open even at the busy time"],
            "fix": ["Please open more tills at peak times", "Add more self-checkout machines",
                    "Plan checkout staffing better"],
        },
    },
    "staff": {
        "zh": {
            "neg": ["收银员态度很冷淡，问问题也爱答不理", "店员说话很不耐烦", "理货员一直在聊天，问东西在哪也不理人",
                    "退货的时候服务台员工给我甩脸色", "保安对顾客很凶"],
            "pos": ["店员态度特别好，很热情", "收银员很有礼貌，还主动帮我装袋", "服务台的小姐姐耐心帮我办了退货",
                    "员工很专业，推荐的商品很合适"],
            "fix": ["希望加强员工服务培训", "请注意员工的服务态度", "希望店长重视一下"],
        },
        "en": {
            "neg": ["The cashier was cold and ignored my questions", "Staff were impatient and rude",
                    "Two shelf staff kept chatting and would not help me find anything",
                    "The service desk was unfriendly when I returned an item",
                    "The security guard was aggressive with customers"],
            "pos": ["Staff were very friendly and warm", "The cashier was polite and helped me pack my bags",
                    "The service desk patiently handled my return",
                    "Staff were knowledgeable and gave good recommendations"],
            "fix": ["Please train staff in customer service", "Staff attitude needs attention",
                    "I hope the store manager takes this seriously"],
        },
    },
    "clean": {
        "zh": {
            "neg": ["地面湿滑还很脏", "生鲜区有股异味", "洗手间太脏了，也没有纸", "购物车把手黏糊糊的", "货架上积了很多灰"],
            "pos": ["店里很干净整洁", "生鲜区打理得很干净，没有异味", "洗手间很干净", "货架摆放整齐，一尘不染"],
            "fix": ["希望加强清洁", "请多安排保洁人员", "建议定期消毒购物车"],
        },
        "en": {
            "neg": ["The floor was wet and dirty", "The fresh food area smelled bad",
                    "The toilets were filthy and had no paper", "The trolley handles were sticky",
                    "The shelves were dusty"],
            "pos": ["The store is spotless and tidy", "The fresh section was clean and smelled fresh",
                    "The toilets were clean", "Shelves were neat and well kept"],
            "fix": ["Please clean more often", "More cleaning staff are needed", "Trolleys should be sanitised regularly"],
        },
    },
    "price": {
        "zh": {
            "neg": ["价格比别家贵不少", "标价和结账价格不一致，多收了{y}元", "促销活动的折扣结账时没算上",
                    "东西越来越贵了", "会员价和普通价几乎没区别"],
            "pos": ["价格实惠，性价比高", "促销活动力度很大", "会员价很划算", "同样的东西比别家便宜"],
            "fix": ["希望价格更透明一些", "请核对一下价签", "希望多搞一些优惠活动"],
        },
        "en": {
            "neg": ["Prices are noticeably higher than elsewhere",
                    "The shelf price and the till price differed, I was overcharged {y} yuan",
                    "The promotion discount was not applied at checkout", "Everything keeps getting more expensive",
                    "The member price is barely lower than the normal price"],
            "pos": ["Good value for money", "Great promotions", "Member prices are a real saving",
                    "Cheaper than other shops for the same items"],
            "fix": ["Please make pricing clearer", "Check the shelf labels", "More promotions would be welcome"],
        },
    },
    "quality": {
        "zh": {
            "neg": ["买的水果回家就发现坏了", "快过期的面包还在卖", "牛奶包装是破的", "蔬菜不新鲜，叶子都黄了",
                    "买到的鸡蛋有好几个是碎的"],
            "pos": ["蔬菜水果很新鲜", "商品质量有保证", "进口食品种类多，品质不错", "熟食很好吃"],
            "fix": ["希望加强商品质量检查", "请及时下架临期商品", "希望改进生鲜的保存"],
        },
        "en": {
            "neg": ["The fruit I bought was rotten when I got home", "Bread close to its expiry date was still on sale",
                    "The milk carton was damaged", "The vegetables were not fresh, the leaves were yellow",
                    "Several eggs in the box were broken"],
            "pos": ["Fruit and vegetables are very fresh", "Product quality is reliable",
                    "Great range of imported food, good quality", "The deli food is delicious"],
            "fix": ["Please check product quality more carefully", "Remove items near expiry in time",
                    "Fresh produce needs better storage"],
        },
    },
    "environment": {
        "zh": {
            "neg": ["店里音乐声音太大，很吵", "空调不够冷，闷得很", "通道被货物堵住了，推车过不去", "灯光太暗，看不清价签",
                    "人太多太挤了"],
            "pos": ["购物环境舒适", "店内布局合理，找东西很方便", "空调温度刚好", "环境安静，逛起来很舒服"],
            "fix": ["希望改善店内环境", "建议把音乐调小一点", "请保持通道畅通"],
        },
        "en": {
            "neg": ["The music was far too loud", "The air conditioning was weak and it was stuffy",
                    "Aisles were blocked with boxes and I could not get my trolley through",
                    "The lighting was too dim to read the price tags", "It was overcrowded"],
            "pos": ["Pleasant place to shop", "The layout makes things easy to find", "The temperature was just right",
                    "Quiet and relaxing to shop in"],
            "fix": ["Please improve the store environment", "Turn the music down a bit", "Keep the aisles clear"],
        },
    },
    "parking": {
        "zh": {
            "neg": ["停车场车位太少，转了{n}分钟才找到位置", "停车收费太贵", "停车场出口排队很久",
                    "停车减免要去服务台办理，太麻烦"],
            "pos": ["停车很方便", "购物满额免停车费，很贴心", "停车场很宽敞"],
            "fix": ["希望增加停车位", "建议停车减免自动抵扣", "希望优化停车场指引"],
        },
        "en": {
            "neg": ["Too few parking spaces, I circled for {n} minutes", "Parking fees are too high",
                    "The car park exit queue was very long",
                    "Getting the parking discount at the service desk is a hassle"],
            "pos": ["Parking is easy", "Free parking with a minimum spend is thoughtful", "The car park is spacious"],
            "fix": ["Please add more parking spaces", "Apply the parking discount automatically",
                    "Improve the car park signs"],
        },
    },
    "membership": {
        "zh": {
            "neg": ["会员积分没有到账", "积分兑换规则太复杂", "会员卡绑定手机号一直失败", "会员日活动名额太少",
                    "生日优惠券没有收到"],
            "pos": ["会员积分很实用", "会员日优惠很多", "生日还收到了优惠券，很惊喜", "会员服务很贴心"],
            "fix": ["希望简化积分规则", "请尽快处理积分问题", "希望会员权益更多一些"],
        },
        "en": {
            "neg": ["My membership points were never credited", "The points redemption rules are too complicated",
                    "Linking my phone number to the member card keeps failing",
                    "Member-day offers sell out immediately", "I never received my birthday voucher"],
            "pos": ["Member points are genuinely useful", "Lots of member-day offers",
                    "I got a birthday voucher, a lovely surprise", "Member service is very thoughtful"],
            "fix": ["Please simplify the points rules", "Fix the points problem soon",
                    "More member benefits would be nice"],
        },
    },
    "app": {
        "zh": {
            "neg": ["App更新后老是闪退", "App下单后配送晚了{h}个小时", "小程序付款一直失败", "App上的库存和店里对不上",
                    "App登录不上，验证码收不到"],
            "pos": ["App下单很方便，送货也快", "小程序扫码购很方便", "App上的优惠券很好用", "线上下单、到店自提很省事"],
            "fix": ["希望尽快修复App的问题", "请改进App的稳定性", "希望App库存信息准确一些"],
        },
        "en": {
            "neg": ["The app keeps crashing since the last update", "My app order arrived {h} hours late",
                    "Payment in the mini-program kept failing", "Stock shown in the app did not match the store",
                    "Cannot log in to the app, the verification code never arrives"],
            "pos": ["Ordering in the app is easy and delivery is fast", "Scan-and-go in the mini-program is great",
                    "The app coupons are easy to use", "Click and collect saves a lot of time"],
            "fix": ["Please fix the app soon", "The app needs to be more stable",
                    "Make the app stock information accurate"],
        },
    },
}  # fmt: skip
APP_WAVE_PHRASES = (0, 4)  # crashes and log-in trouble: the emerging topic
ZH = {
    "neg_open": ["", "", "", "今天", "周末", "这次来", "下班后来买东西，", "带孩子来，"],
    "neg_close": ["，体验很差。", "，太失望了。", "，下次不想来了。", "！", "。", "，希望改进。"],
    "and": ["，而且", "，另外", "；还有，"],
    "pos_open": ["", "", "", "一直在这家买，", "总体很满意，", "第一次来，"],
    "pos_close": ["，会继续来的。", "，推荐！", "。", "，非常满意。", "，给个好评。", "，赞！"],
    "but": ["，但是", "，不过", "，就是"],
    "short_pos": ["很好", "满意", "不错，继续加油", "服务很好，谢谢！", "挺好的"],
    "critical": ["买到的{item}已经过期{d}天了，家里孩子吃了拉肚子", "在{item}里吃出了异物", "买的{item}打开发现发霉了"],
    "critical_close": ["，要求给个说法。", "，必须严肃处理！", "，希望尽快联系我。"],
    "items": ["酸奶", "面包", "牛奶", "熟食", "水饺"],
    "other": ["停车位太少", "会员积分规则", "App不好用", "商品种类少"],
}  # fmt: skip
EN = {
    "neg_open": ["", "", "", "Visited on a Saturday. ", "Came in after work. ", "Second visit this month. "],
    "neg_close": [". Very disappointing.", ". Not good enough.", "!", ".", ". Please sort this out."],
    "and": [". Also, ", ", and ", ". On top of that, "],
    "pos_open": ["", "", "", "I shop here every week. ", "Overall very happy. ", "First visit. "],
    "pos_close": [". Will come again.", ". Recommended!", ".", ". Very satisfied.", ". Five stars."],
    "but": [", but ", ". However, ", ", although "],
    "short_pos": ["Great", "All good", "Very good, thanks!", "Nice store", "Happy with it"],
    "critical": ["The {item} I bought was {d} days past its expiry date and my child got sick",
                 "Found a foreign object in the {item}", "The {item} was mouldy when I opened it"],
    "critical_close": [". I want an explanation.", ". This must be dealt with seriously!", ". Please call me back."],
    "items": ["yoghurt", "bread", "milk", "deli meat", "dumplings"],
    "other": ["Not enough parking", "Membership points rules", "The app is hard to use", "Small product range"],
}  # fmt: skip


def _quiet(_message: str) -> None:
    return None


# --- public entry points -----------------------------------------------------------------------------


def load(
    *,
    seed: int,
    responses: int,
    progress: Callable[[str], None] = _quiet,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Load the demo company unless it is there already; return the same report either way.

    ``now`` anchors the 18 months (they end at the last local midnight before it); tests pass a
    fixed value so that two loads on different days still give identical data.
    """
    company = OrgUnit.objects.filter(code=COMPANY_CODE).first()
    if company is not None:
        # Everything is written in one transaction, so the company and its CSI survey (the marker)
        # exist together only after a complete load.
        if (
            company.parent_id is not None
            or not Survey.objects.filter(slug=MARKER_SURVEY, unit=company).exists()
        ):
            raise RuntimeError(
                f"an org unit with code {COMPANY_CODE!r} exists but is not the demo company; "
                "load the demo into another database"
            )
        progress(f"demo: company {COMPANY_CODE!r} is already loaded; nothing to do")
        return report(company)
    builder = _Builder(seed=seed, n=max(0, int(responses)), progress=progress, now=now or timezone.now())
    with transaction.atomic(), _roomy_sqlite_cache():
        company = builder.run()
    return report(company)


@contextmanager
def _roomy_sqlite_cache(kib: int = 256 * 1024) -> Iterator[None]:
    """A bigger page cache for this connection while the load runs: the indexes stay in memory."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={int(before)}")


def report(company: OrgUnit) -> dict[str, Any]:
    """Counts under the demo company, the demo store's CSI survey path and the demo logins."""
    under = company.path
    User = get_user_model()
    store = (
        RoleAssignment.objects.filter(user__username="demo-store", role=Role.UNIT_MANAGER)
        .select_related("unit")
        .first()
    )
    link = (
        SurveyLink.objects.filter(
            survey__unit=company, survey__template="store_csi", kind=LinkKind.UNIT, unit=store.unit
        ).first()
        if store
        else None
    )
    return {
        "company": company.code,
        "org_units": OrgUnit.objects.filter(path__startswith=under).count(),
        "stores": OrgUnit.objects.filter(path__startswith=under, kind=UnitKind.STORE).count(),
        "staff": User.objects.filter(roles__unit__path__startswith=under).distinct().count(),
        "surveys": Survey.objects.filter(unit__path__startswith=under).count(),
        "customers": Customer.objects.filter(home_unit__path__startswith=under).count(),
        "responses": Response.objects.filter(unit__path__startswith=under).count(),
        "feedback": FeedbackRecord.objects.filter(unit__path__startswith=under).count(),
        "cases": Case.objects.filter(unit__path__startswith=under).count(),
        "example_survey_path": f"/s/{link.token}" if link else "",
        "logins": [
            {"username": username, "password": PASSWORD, "role": role, "scope": scope}
            for username, role, scope in LOGINS
        ],
    }


# --- the builder ------------------------------------------------------------------------------------


@dataclass
class _Store:
    unit: OrgUnit
    city: str
    p_en: float
    flagship: bool


@dataclass
class _Loop:
    """SLA policy ids by priority and the rule versions that opened the demo's cases."""

    policies: dict[str, int]
    detractors: Any
    critical: Any
    serious: Any


@dataclass
class _Calendar:
    volume: np.ndarray
    quality: np.ndarray
    wait: np.ndarray
    summer: np.ndarray
    app_wave: np.ndarray


@dataclass
class _Generated:
    """Per-response arrays, in submission order."""

    store: np.ndarray
    day: np.ndarray
    survey: np.ndarray
    channel: np.ndarray
    english: np.ndarray
    submitted: np.ndarray
    duration: np.ndarray
    nps: np.ndarray
    csat: np.ndarray
    ces: np.ndarray
    csi: np.ndarray
    sq_expectation: np.ndarray
    sq_perception: np.ndarray
    customer: np.ndarray  # customer id or 0
    company_level: np.ndarray  # answered through the survey's anonymous link
    negative: np.ndarray
    comment: list[str]
    theme: np.ndarray  # main theme of the comment, -1 without one
    extra: dict[str, Any] = field(default_factory=dict)


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _tail(x: np.ndarray) -> np.ndarray:
    """Stretch the unhappy tail: angry customers go straight to the bottom of the scale."""
    return x + np.minimum(0.0, x + 1.2)


def _scale(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(x), lo, hi).astype(np.int64)


def _pick_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of ``weights``, drawn in proportion to the row's weights."""
    if len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _column(model: type[models.Model], name: str) -> str:
    f = cast("models.Field[Any, Any]", model._meta.get_field(name))
    return str(f.column)


def _objects(values: np.ndarray, present: np.ndarray | None = None) -> list[Any]:
    """Python values for the driver (numpy scalars are not accepted), None where not ``present``."""
    out = values.astype(object)
    if present is not None:
        out[~present] = None
    return cast("list[Any]", out.tolist())


class _Builder:
    def __init__(self, *, seed: int, n: int, progress: Callable[[str], None], now: datetime) -> None:
        self.seed = seed
        self.n = n
        self.t0 = time.perf_counter()
        self._progress = progress
        self.pg = connection.vendor == "postgresql"
        streams = np.random.SeedSequence(seed).spawn(8)
        self.rng = {
            name: np.random.default_rng(s)
            for name, s in zip(
                ("org", "staff", "customers", "volume", "scores", "text", "feedback", "cases"),
                streams,
                strict=True,
            )
        }
        self.text_rnd = random.Random(int(streams[5].generate_state(1)[0]))
        today = now.astimezone(TZ).date()
        self.start_date = today - timedelta(days=DAYS)
        self.start_epoch = int(datetime.combine(self.start_date, dtime(0), tzinfo=TZ).timestamp())
        self.end_epoch = int(datetime.combine(today, dtime(0), tzinfo=TZ).timestamp())
        self.now_epoch = int(now.timestamp())
        self.now = now
        self.founded = datetime.fromtimestamp(self.start_epoch, tz=UTC) - timedelta(days=90)

    def say(self, message: str) -> None:
        self._progress(f"demo: {message} ({time.perf_counter() - self.t0:.1f} s)")

    def stamps(self, epoch: np.ndarray) -> list[str]:
        """UTC timestamps as the database stores them: naive text on SQLite, with an offset elsewhere."""
        s = np.datetime_as_string(np.asarray(epoch, dtype=np.int64).astype("datetime64[s]"), unit="s")
        s = np.char.replace(s, "T", " ")
        if self.pg:
            s = np.char.add(s, "+00")
        return cast("list[str]", s.tolist())

    def insert(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Append rows without building model instances: COPY on PostgreSQL, executemany elsewhere."""
        if not rows:
            return
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        cols = ", ".join(qn(_column(model, f)) for f in fields)
        with connection.cursor() as cursor:
            if self.pg:
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

    def token(self, survey: str, unit: str) -> str:
        digest = hashlib.sha256(f"manyi-demo:{self.seed}:{survey}:{unit}".encode()).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    # -- steps ---------------------------------------------------------------------------------------

    def run(self) -> OrgUnit:
        self.say(f"building {COMPANY_NAME['zh-hans']} / {COMPANY_NAME['en']}")
        company = self.build_org()
        self.say(f"org tree: {len(self.units)} units, {len(self.stores)} stores")
        self.build_staff(company)
        self.say(f"staff: {len(self.user_ids)} accounts")
        self.build_surveys(company)
        self.build_customers()
        self.say(f"surveys: {len(SURVEYS)} with {len(SURVEYS) * (len(self.stores) + 1)} links; customers")
        gen = self.generate_responses()
        self.say(f"generated {self.n:,} responses, {len(gen.comment):,} comments")
        response_ids = self.write_responses(company, gen)
        self.write_answers(gen, response_ids)
        fb_ids = self.write_feedback(company, gen, response_ids)
        self.write_cases(company, gen, response_ids, fb_ids)
        self.backdate(company)
        self.say("100% loaded")
        return company

    def build_org(self) -> OrgUnit:
        rng = self.rng["org"]
        company = do_create_unit(code=COMPANY_CODE, name=COMPANY_NAME, kind=UnitKind.COMPANY)
        self.units: list[OrgUnit] = [company]
        self.stores: list[_Store] = []
        self.teams: dict[str, OrgUnit] = {}
        for rcode, rzh, ren, cities in REGIONS:
            region = do_create_unit(
                code=f"hejia-{rcode}", name={"zh-hans": rzh, "en": ren}, kind=UnitKind.REGION, parent=company
            )
            self.units.append(region)
            for ccode, czh, cen, p_en, districts in cities:
                city = do_create_unit(
                    code=f"hejia-{ccode}", name={"zh-hans": czh, "en": cen}, kind=UnitKind.CITY, parent=region
                )
                self.units.append(city)
                for k, (dcode, dzh, den) in enumerate(districts):
                    store = do_create_unit(
                        code=f"hejia-{ccode}-{dcode}",
                        name={"zh-hans": f"{czh}{dzh}店", "en": f"{cen} {den}"},
                        kind=UnitKind.STORE,
                        parent=city,
                    )
                    self.units.append(store)
                    self.stores.append(_Store(store, ccode, p_en, flagship=k == 0))
                    if store.code in TEAM_STORES:
                        team = do_create_unit(
                            code=f"{store.code}-desk",
                            name={"zh-hans": f"{czh}{dzh}店服务台", "en": f"{cen} {den} service desk"},
                            kind=UnitKind.TEAM,
                            parent=store,
                        )
                        self.units.append(team)
                        self.teams[store.code] = team
        S = len(self.stores)
        codes = [s.unit.code for s in self.stores]
        big = np.array([s.city in BIG_CITIES for s in self.stores])
        flagship = np.array([s.flagship for s in self.stores])
        self.size = np.exp(rng.normal(0, 0.3, S)) * np.where(flagship, 1.5, 1.0) * np.where(big, 1.15, 1.0)
        self.base = rng.normal(0.0, 0.35, S)
        self.dim_off = rng.normal(0.0, 0.22, (S, len(DIMS)))
        weak = rng.random(S) < 0.45
        weak_dim = rng.integers(0, len(DIMS), S)
        self.dim_off[np.flatnonzero(weak), weak_dim[weak]] -= 0.6
        self.slope = rng.normal(0.0, 0.25, S)
        self.improving = np.array([c in IMPROVING_STORES for c in codes])
        self.declining = np.array([c in DECLINING_STORES for c in codes])
        self.base[self.improving | self.declining] = 0.0
        # What customers complain about at each store: its weakest dimension, its car park.
        self.neg_mult = np.ones((S, len(THEMES)))
        worst = self.dim_off.argmin(axis=1)
        for s in range(S):
            if self.dim_off[s, worst[s]] < -0.3:
                self.neg_mult[s, DIM_THEME[worst[s]]] *= 2.5
                if worst[s] == 0:
                    self.neg_mult[s, ENVIRONMENT] *= 1.8
            if codes[s] in PARKING_STORES:
                self.neg_mult[s, PARKING] *= 6.0
        self.p_en = np.array([s.p_en for s in self.stores])
        return company

    def build_staff(self, company: OrgUnit) -> None:
        rng = self.rng["staff"]
        User = get_user_model()
        taken = set(User.objects.values_list("username", flat=True))
        clash = [name for name, _, _ in LOGINS if name in taken]
        if clash:
            raise RuntimeError(
                f"a user named {clash[0]!r} already exists; load the demo into a fresh database"
            )
        specs: list[tuple[str, str, str, OrgUnit, str]] = []  # username, given, surname, unit, role

        def person(username: str | None = None) -> tuple[str, str, str]:
            sz, spy = SURNAMES[int(rng.integers(len(SURNAMES)))]
            gz, gpy = GIVEN_NAMES[int(rng.integers(len(GIVEN_NAMES)))]
            if username is None:
                stem = f"{gpy}.{spy}"
                username, k = stem, 1
                while username in taken:
                    k += 1
                    username = f"{stem}{k}"
            taken.add(username)
            return username, gz, sz

        def add(unit: OrgUnit, role: str, username: str | None = None) -> None:
            name, given, surname = person(username)
            specs.append((name, given, surname, unit, role))

        add(company, Role.ADMIN, "demo-admin")
        add(company, Role.CX_MANAGER, "demo-cx")
        add(company, Role.ADMIN)
        add(company, Role.CX_MANAGER)
        for _ in range(4):
            add(company, Role.ANALYST)
        for _ in range(3):
            add(company, Role.VIEWER)
        for unit in self.units:
            if unit.kind == UnitKind.REGION:
                add(unit, Role.UNIT_MANAGER)
                add(unit, Role.CX_MANAGER)
                add(unit, Role.ANALYST)
            elif unit.kind == UnitKind.CITY:
                add(unit, Role.UNIT_MANAGER)
        median = float(np.median(self.size))
        store_rows: list[tuple[int, int]] = []  # (store index, position in specs)
        for s, store in enumerate(self.stores):
            code = store.unit.code
            store_rows.append((s, len(specs)))
            add(store.unit, Role.UNIT_MANAGER, "demo-store" if code == DEMO_STORE else None)
            agents = 3 + int(self.size[s] > median) + int(store.flagship)
            for a in range(agents):
                team = self.teams.get(code)
                unit = team if team is not None and a < 2 else store.unit
                store_rows.append((s, len(specs)))
                add(unit, Role.AGENT)
        hashed = make_password(PASSWORD)  # argon2 once; every demo account shares the hash
        joined = rng.integers(0, 3 * 365 * 86400, len(specs))
        users = [
            User(
                username=username,
                password=hashed,
                first_name=given,
                last_name=surname,
                email=f"{username}@{EMAIL_DOMAIN}",
                is_superuser=username == "demo-admin",
                is_staff=username == "demo-admin",
                date_joined=self.founded - timedelta(seconds=int(j)),
            )
            for (username, given, surname, _, _), j in zip(specs, joined, strict=True)
        ]
        User.objects.bulk_create(users, batch_size=500)
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=u, unit=spec[3], role=spec[4])
                for u, spec in zip(users, specs, strict=True)
            ],
            batch_size=500,
        )
        self.user_ids = [int(u.pk) for u in users]
        self.store_staff: list[list[int]] = [[] for _ in self.stores]
        for s, i in store_rows:
            self.store_staff[s].append(self.user_ids[i])  # the manager first, then the agents
        self.company_cx = [
            self.user_ids[i]
            for i, spec in enumerate(specs)
            if spec[3] == company and spec[4] == Role.CX_MANAGER
        ]

    def build_surveys(self, company: OrgUnit) -> None:
        launch = datetime.fromtimestamp(self.start_epoch, tz=UTC) - timedelta(days=14)
        self.surveys: list[Survey] = []
        self.versions: list[SurveyVersion] = []
        self.anon_links: list[int] = []
        self.unit_links = np.zeros((len(SURVEYS), len(self.stores)), dtype=np.int64)
        for k, template in enumerate(SURVEYS):
            survey = do_create_survey(
                slug=f"hejia-{template.replace('_', '-')}", unit=company, template=template
            )
            version = do_publish(survey=survey, now=launch)
            self.surveys.append(survey)
            self.versions.append(version)
            anon = do_create_link(
                survey=survey, kind=LinkKind.ANONYMOUS, token=self.token(template, COMPANY_CODE)
            )
            self.anon_links.append(int(anon.pk))
            for s, store in enumerate(self.stores):
                link = do_create_link(
                    survey=survey,
                    kind=LinkKind.UNIT,
                    unit=store.unit,
                    token=self.token(template, store.unit.code),
                )
                self.unit_links[k, s] = link.pk

    def build_customers(self) -> None:
        rng = self.rng["customers"]
        S = len(self.stores)
        n = int(min(8000, max(600, self.n // 25)))
        store = np.sort(
            np.concatenate([np.arange(S), rng.choice(S, size=n - S, p=self.size / self.size.sum())])
        )  # every store has customers; grouped by store so their ids come back in blocks
        english = rng.random(n) < self.p_en[store] * 0.6
        sur = rng.integers(0, len(SURNAMES), n)
        giv = rng.integers(0, len(GIVEN_NAMES), n)
        fst = rng.integers(0, len(EN_FIRST), n)
        lst = rng.integers(0, len(EN_LAST), n)
        prefix = rng.integers(0, len(MOBILE_PREFIXES), n)
        has_mail = rng.random(n) < 0.4
        domain = rng.integers(0, len(MAIL_DOMAINS), n)
        tier = rng.choice(4, size=n, p=[0.65, 0.20, 0.11, 0.04])
        consent = rng.random(n) < 0.6
        opted_out = rng.random(n) < 0.02
        created = self.start_epoch - rng.integers(0, 4 * 365 * 86400, n)
        tiers = ("standard", "silver", "gold", "platinum")
        rows: list[tuple[Any, ...]] = []
        stamps = self.stamps(created)
        for i in range(n):
            if english[i]:
                name = f"{EN_FIRST[fst[i]]} {EN_LAST[lst[i]]}"
                handle = f"{EN_FIRST[fst[i]].lower()}.{EN_LAST[lst[i]].lower()}{i % 97}"
            else:
                name = SURNAMES[sur[i]][0] + GIVEN_NAMES[giv[i]][0]
                handle = f"{SURNAMES[sur[i]][1]}{GIVEN_NAMES[giv[i]][1]}{i % 997}"
            rows.append(
                (
                    f"HJM{(i * 7919 + 1_000_003) % 100_000_000:08d}",  # membership number, unique per i
                    name,
                    f"+86{MOBILE_PREFIXES[prefix[i]]}{(i * 48_271 + 12_345_677) % 100_000_000:08d}",
                    f"{handle}@{MAIL_DOMAINS[domain[i]]}" if has_mail[i] else "",
                    "en" if english[i] else "zh-hans",
                    tiers[tier[i]],
                    self.stores[store[i]].unit.pk,
                    bool(consent[i]),
                    bool(opted_out[i]),
                    stamps[i],
                )
            )
        fields = ("external_id", "name", "phone", "email", "language", "tier", "home_unit", "consent_contact",
                  "opted_out", "created_at")  # fmt: skip
        self.insert(Customer, fields, rows)
        ids = np.array(
            Customer.objects.filter(home_unit_id__in=[s.unit.pk for s in self.stores])
            .order_by("id")
            .values_list("id", flat=True)[:n]
        )
        if len(ids) != n:
            raise RuntimeError(f"expected {n} demo customers, found {len(ids)}")
        self.customer_ids = ids
        self.cust_count = np.bincount(store, minlength=S)
        self.cust_start = np.concatenate([[0], np.cumsum(self.cust_count)[:-1]])

    def calendar(self) -> _Calendar:
        volume = np.ones(DAYS)
        quality = np.zeros(DAYS)
        wait = np.zeros(DAYS)
        summer = np.zeros(DAYS, dtype=bool)
        app_wave = np.arange(DAYS) >= DAYS - APP_WAVE_DAYS
        for i in range(DAYS):
            day = self.start_date + timedelta(days=i)
            wd = day.weekday()
            volume[i] *= DOW_VOLUME[wd]
            if wd >= 5:
                quality[i] -= 0.1
                wait[i] -= 0.25
            dd = min(((day - CNY.get(y, date(y, 2, 5))).days for y in (day.year, day.year + 1)), key=abs)
            if -21 <= dd <= -1:  # the New Year shopping rush
                rush = max(0.2, 1.0 - abs(dd + 7) / 15)
                volume[i] *= 1 + 0.8 * rush
                quality[i] -= 0.25 + 0.15 * rush
                wait[i] -= 0.6 * rush
            elif 0 <= dd <= 2:  # the holiday itself: few customers, skeleton staff
                volume[i] *= 0.35
                quality[i] -= 0.2
            elif 3 <= dd <= 6:
                volume[i] *= 0.8
                quality[i] -= 0.1
            if day.month in (7, 8):
                volume[i] *= 1.12
                quality[i] -= 0.12
                summer[i] = True
            if day.month == 10 and day.day <= 7:  # Golden Week
                volume[i] *= 1.4
                quality[i] -= 0.25
                wait[i] -= 0.5
            if day.month == 5 and day.day <= 5:
                volume[i] *= 1.25
                quality[i] -= 0.12
                wait[i] -= 0.3
            if (day.month, day.day) in ((6, 17), (6, 18), (11, 10), (11, 11)):  # 618 and Double 11
                volume[i] *= 1.15
                quality[i] -= 0.08
        return _Calendar(volume, quality, wait, summer, app_wave)

    def trends(self) -> np.ndarray:
        """Quality shift of every store on every day: small drifts, three turnarounds, three slides."""
        tt = np.linspace(0.0, 1.0, DAYS)
        trend = 0.15 * tt[None, :] + self.slope[:, None] * (tt[None, :] - 0.5)
        trend[self.improving] = -0.55 + 1.1 * _smooth((tt - 0.2) / 0.55)  # a new manager's turnaround
        trend[self.declining] = 0.35 - 1.1 * _smooth((tt - 0.4) / 0.5)  # staff turnover, then decay
        return trend

    def generate_responses(self) -> _Generated:
        rng = self.rng["volume"]
        N, S, D = self.n, len(self.stores), DAYS
        self.cal = cal = self.calendar()
        adoption = np.linspace(0.75, 1.25, D)  # more QR codes scanned as the programme matures
        self.volume = self.size[:, None] * (cal.volume * adoption)[None, :]
        counts = rng.multinomial(N, (self.volume / self.volume.sum()).ravel())
        cell = np.repeat(np.arange(S * D), counts)
        store, day = cell // D, cell % D
        survey = rng.choice(4, size=N, p=SURVEY_SHARE)
        channel = np.zeros(N, dtype=np.int64)
        for k in range(4):
            m = survey == k
            channel[m] = rng.choice(4, size=int(m.sum()), p=CHANNEL_SHARE[k])
        at_store = channel == QR
        hour = np.where(
            at_store,
            8 + rng.choice(len(STORE_HOURS), size=N, p=STORE_HOURS / STORE_HOURS.sum()),
            7 + rng.choice(len(HOME_HOURS), size=N, p=HOME_HOURS / HOME_HOURS.sum()),
        )
        submitted = self.start_epoch + day * 86400 + hour * 3600 + rng.integers(0, 3600, N)
        duration = np.clip(np.rint(MEDIAN_SECONDS[survey] * np.exp(rng.normal(0, 0.5, N))), 10, 1800).astype(
            np.int64
        )
        english = rng.random(N) < self.p_en[store]
        order = np.argsort(submitted, kind="stable")
        store, day, survey, channel = store[order], day[order], survey[order], channel[order]
        submitted, duration, english = submitted[order], duration[order], english[order]

        # Scores: one latent experience per response, items load on it, each with its own noise.
        rng = self.rng["scores"]
        trend = self.trends()
        mu = self.base[store] + trend[store, day] + cal.quality[day] + SURVEY_OFFSET[survey]
        z = mu + rng.normal(0.0, 0.85, N)
        items = 0.8 * z[:, None] + self.dim_off[store] + 0.6 * rng.normal(size=(N, len(DIMS)))
        items[:, 2] += cal.wait[day]  # responsiveness suffers on crowded days
        csi = _scale(4.05 + 0.8 * _tail(items), 1, 5)
        nps = _scale(8.25 + 2.1 * _tail(0.85 * z + 0.5 * rng.normal(size=N)), 0, 10)
        csat = _scale(4.0 + 0.9 * _tail(0.85 * z + 0.5 * rng.normal(size=N)), 1, 5)
        ces = _scale(5.2 + 1.4 * _tail(0.85 * z + 0.5 * rng.normal(size=N)), 1, 7)
        sq_exp = np.clip(np.rint(5.7 + 0.9 * rng.normal(size=N)), 1, 7).astype(np.int64)
        sq_per = np.clip(np.rint(4.9 + 1.3 * (0.7 * items[:, 2] + 0.6 * rng.normal(size=N))), 1, 7)
        sq_per = sq_per.astype(np.int64)
        uses_nps = (survey == CSI) | (survey == REL)
        negative = np.where(uses_nps, nps <= 6, np.where(survey == CSAT, csat <= 2, ces <= 3))
        positive = np.where(uses_nps, nps >= 9, np.where(survey == CSAT, csat >= 4, ces >= 6))

        # Who: a member of the store, more often through e-mail and SMS invitations.
        with_customer = rng.random(N) < CUSTOMER_SHARE[channel]
        pick = self.cust_start[store] + np.floor(rng.random(N) * self.cust_count[store]).astype(np.int64)
        customer = np.where(with_customer, self.customer_ids[pick], 0)
        company_level = (survey == REL) & (channel == LINK)  # the app / WeChat link: no store known

        # Comments: more from unhappy customers; themes follow the store's weak points.
        p_comment = np.where(negative, 0.5, np.where(positive, 0.24, 0.18)) * np.where(english, 1.1, 1.0)
        commented = np.flatnonzero(rng.random(N) < p_comment)
        trng = self.rng["text"]
        c_store, c_day, c_survey = store[commented], day[commented], survey[commented]
        c_neg, c_pos = negative[commented], positive[commented]
        neg_w = NEG_BASE[None, :] * self.neg_mult[c_store]
        neg_w[:, WAIT] *= 1.0 - 1.5 * cal.wait[c_day]
        neg_w[:, APP] *= np.where(cal.app_wave[c_day], 4.0, 1.0)
        neg_w[:, ENVIRONMENT] *= np.where(cal.summer[c_day], 1.6, 1.0)
        pos_w = np.repeat(POS_BASE[None, :], len(commented), axis=0)
        csi_rows = np.flatnonzero(c_survey == CSI)
        if len(csi_rows):
            c_items = items[commented[csi_rows]]
            lowest = np.array(DIM_THEME)[c_items.argmin(axis=1)]
            highest = np.array(DIM_THEME)[c_items.argmax(axis=1)]
            neg_w[csi_rows, lowest] *= 2.0
            pos_w[csi_rows, highest] *= 2.0
        ces_rows = c_survey == CES
        neg_w[ces_rows] *= CES_THEME
        pos_w[ces_rows] *= CES_THEME
        neg_theme = _pick_rows(trng, neg_w)
        pos_theme = _pick_rows(trng, pos_w)
        second_neg = neg_w.copy()
        second_neg[np.arange(len(commented)), neg_theme] = 0.0
        second_pos = pos_w.copy()
        second_pos[np.arange(len(commented)), pos_theme] = 0.0
        neg_theme2 = _pick_rows(trng, second_neg)
        pos_theme2 = _pick_rows(trng, second_pos)
        theme = np.full(N, -1, dtype=np.int64)
        theme[commented] = np.where(c_pos, pos_theme, neg_theme)
        rnd = self.text_rnd
        comments: list[str] = []
        c_english = english[commented]
        c_wave = cal.app_wave[c_day]
        for j in range(len(commented)):
            lang = "en" if c_english[j] else "zh"
            if c_neg[j]:
                second = int(neg_theme2[j]) if rnd.random() < 0.18 else -1
                text = _complaint(rnd, lang, int(neg_theme[j]), second, bool(c_wave[j]))
            elif c_pos[j]:
                second = int(pos_theme2[j]) if rnd.random() < 0.2 else -1
                text = _praise(rnd, lang, int(pos_theme[j]), second)
            else:
                other = int(pos_theme[j]) if pos_theme[j] != neg_theme[j] else int(pos_theme2[j])
                text = _mixed(rnd, lang, int(neg_theme[j]), other, bool(c_wave[j]))
            comments.append(text)
        comment_text = np.full(N, "", dtype=object)
        comment_text[commented] = comments

        return _Generated(
            store=store,
            day=day,
            survey=survey,
            channel=channel,
            english=english,
            submitted=submitted,
            duration=duration,
            nps=nps,
            csat=csat,
            ces=ces,
            csi=csi,
            sq_expectation=sq_exp,
            sq_perception=sq_per,
            customer=customer,
            company_level=company_level,
            negative=negative,
            comment=comments,
            theme=theme,
            extra={"commented": commented, "comment_text": comment_text, "items": items},
        )

    def write_responses(self, company: OrgUnit, g: _Generated) -> np.ndarray:
        rng = self.rng["scores"]
        N = self.n
        raw = rng.integers(0, 256, size=(N, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        hexed = raw.tobytes().hex()
        submission_ids = [hexed[i * 32 : (i + 1) * 32] for i in range(N)]
        survey_ids = np.array([s.pk for s in self.surveys])[g.survey]
        version_ids = np.array([v.pk for v in self.versions])[g.survey]
        store_unit = np.array([s.unit.pk for s in self.stores])[g.store]
        unit_ids = np.where(g.company_level, company.pk, store_unit)
        link_ids = np.where(
            g.company_level, np.array(self.anon_links)[g.survey], self.unit_links[g.survey, g.store]
        )
        uses_nps = (g.survey == CSI) | (g.survey == REL)
        uses_csat = (g.survey == CSI) | (g.survey == CSAT)
        columns = [
            submission_ids,
            survey_ids.tolist(),
            version_ids.tolist(),
            link_ids.tolist(),
            unit_ids.tolist(),
            _objects(g.customer, g.customer > 0),
            np.array(CHANNELS)[g.channel].tolist(),
            np.where(g.english, "en", "zh-hans").tolist(),
            self.stamps(g.submitted - g.duration),
            self.stamps(g.submitted),
            g.duration.tolist(),
            [""] * N,
            _objects(g.nps, uses_nps),
            _objects(g.csat, uses_csat),
            _objects(g.ces, g.survey == CES),
            g.extra["comment_text"].tolist(),
        ]
        rows = list(zip(*columns, strict=True))
        fields = ("submission_id", "survey", "version", "link", "unit", "customer", "channel", "language",
                  "started_at", "submitted_at", "duration_seconds", "ip_hash", "nps", "csat", "ces", "comment")  # fmt: skip
        chunk = max(1, -(-N // 2))
        for i in range(0, N, chunk):
            self.insert(Response, fields, rows[i : i + chunk])
            self.say(f"responses {min(N, i + chunk) * 100 // max(N, 1)}%")
        ids = np.array(
            Response.objects.filter(survey__in=self.surveys).order_by("id").values_list("id", flat=True),
            dtype=np.int64,
        )
        if len(ids) != N:
            raise RuntimeError(f"expected {N} demo responses, found {len(ids)}")
        return ids

    def write_answers(self, g: _Generated, response_ids: np.ndarray) -> None:
        rng = self.rng["scores"]
        N = self.n
        pos_parts: list[np.ndarray] = []
        code_parts: list[np.ndarray] = []
        num_parts: list[np.ndarray] = []
        text_parts: list[np.ndarray] = []
        choice_parts: list[np.ndarray] = []

        def add(
            idx: np.ndarray,
            code: str,
            number: np.ndarray | None = None,
            text: np.ndarray | None = None,
            choices: list[str | None] | None = None,
        ) -> None:
            n = len(idx)
            pos_parts.append(idx)
            code_parts.append(np.full(n, code, dtype=object))
            num_parts.append(number.astype(float).astype(object) if number is not None else np.full(n, None))
            text_parts.append(text if text is not None else np.full(n, "", dtype=object))
            choice_parts.append(np.array(choices, dtype=object) if choices is not None else np.full(n, None))

        has_comment = g.extra["comment_text"] != ""
        consent_answered = rng.random(N) < 0.55
        consent_yes = (rng.random(N) < np.where(g.negative, 0.65, 0.35)).astype(float)

        def comment_and_consent(idx: np.ndarray, consent: bool = True) -> None:
            c = idx[has_comment[idx]]
            add(c, "comment", text=g.extra["comment_text"][c])
            if consent:
                k = idx[consent_answered[idx]]
                add(k, "contact_ok", number=consent_yes[k])

        # store CSI: nps, csat, csi.<dimension>, sq_wait.expectation/perception, comment, contact_ok
        idx = np.flatnonzero(g.survey == CSI)
        add(idx, "nps", number=g.nps[idx])
        add(idx, "csat", number=g.csat[idx])
        for k, dim in enumerate(DIMS):
            add(idx, f"csi.{dim}", number=g.csi[idx, k])
        sq = idx[rng.random(len(idx)) < 0.75]
        add(sq, "sq_wait.expectation", number=g.sq_expectation[sq])
        add(sq, "sq_wait.perception", number=g.sq_perception[sq])
        comment_and_consent(idx)

        # relational NPS: nps, reasons (+ other) when nps <= 8, comment, contact_ok
        idx = np.flatnonzero(g.survey == REL)
        add(idx, "nps", number=g.nps[idx])
        asked = idx[(g.nps[idx] <= 8) & (rng.random(len(idx)) < 0.7)]
        rnd = self.text_rnd
        reasons: list[str | None] = []
        other_idx: list[int] = []
        other_text: list[str] = []
        for i in asked.tolist():
            weights = (NEG_BASE * self.neg_mult[g.store[i]])[:5].tolist()
            chosen = []
            if 0 <= g.theme[i] < 5 and g.negative[i]:
                chosen.append(THEMES[g.theme[i]])
            while not chosen or (len(chosen) < 3 and rnd.random() < 0.35):
                pick = rnd.choices(THEMES[:5], weights=weights)[0]
                if pick not in chosen:
                    chosen.append(pick)
            if rnd.random() < 0.03:
                chosen.append("other")
                other_idx.append(i)
                other_text.append(rnd.choice((EN if g.english[i] else ZH)["other"]))
            reasons.append(json.dumps(chosen))
        add(asked, "reasons", choices=reasons)
        add(np.array(other_idx, dtype=np.int64), "reasons.other", text=np.array(other_text, dtype=object))
        comment_and_consent(idx)

        # post-service CSAT: csat, comment, contact_ok
        idx = np.flatnonzero(g.survey == CSAT)
        add(idx, "csat", number=g.csat[idx])
        comment_and_consent(idx)

        # CES after support: ces, resolved, comment
        idx = np.flatnonzero(g.survey == CES)
        add(idx, "ces", number=g.ces[idx])
        p_resolved = np.where(
            (g.ces[idx] >= 6)[:, None],
            [0.9, 0.08, 0.02],
            np.where((g.ces[idx] >= 4)[:, None], [0.55, 0.35, 0.10], [0.15, 0.35, 0.5]),
        )
        resolved = np.array(["yes", "partly", "no"], dtype=object)[_pick_rows(rng, p_resolved)]
        add(idx, "resolved", text=resolved)
        comment_and_consent(idx, consent=False)

        pos = np.concatenate(pos_parts)
        order = np.argsort(pos, kind="stable")  # by response, questions in their order
        pos = pos[order]
        # Choices are stored as JSON; PostgreSQL's COPY takes the JSON text as it is.
        rows = list(
            zip(
                response_ids[pos].tolist(),
                np.concatenate(code_parts)[order].tolist(),
                np.concatenate(num_parts)[order].tolist(),
                np.concatenate(text_parts)[order].tolist(),
                np.concatenate(choice_parts)[order].tolist(),
                strict=True,
            )
        )
        fields = ("response", "question_code", "number", "text", "choices")
        chunk = max(1, -(-len(rows) // 4))
        for i in range(0, len(rows), chunk):
            self.insert(Answer, fields, rows[i : i + chunk])
            self.say(f"answers {min(len(rows), i + chunk) * 100 // max(len(rows), 1)}% of {len(rows):,}")

    def write_feedback(self, company: OrgUnit, g: _Generated, response_ids: np.ndarray) -> np.ndarray:
        """Survey comments as the enrich task records them, then complaints, reviews and posts."""
        rng = self.rng["feedback"]
        c = g.extra["commented"]
        store_unit = np.array([s.unit.pk for s in self.stores])
        slugs = np.array([s.slug for s in self.surveys], dtype=object)
        rating = np.where(g.survey[c] == CES, -1, np.where((g.survey[c] == CSAT), g.csat[c], g.nps[c]))
        survey_rows = list(
            zip(
                ["survey"] * len(c),
                np.where(g.company_level[c], company.pk, store_unit[g.store[c]]).tolist(),
                _objects(g.customer[c], g.customer[c] > 0),
                response_ids[c].tolist(),
                slugs[g.survey[c]].tolist(),
                [""] * len(c),
                ["low"] * len(c),
                _objects(rating.astype(float), rating >= 0),
                g.comment,
                np.where(g.english[c], "en", "zh-hans").tolist(),
                self.stamps(g.submitted[c]),
                self.stamps(g.submitted[c] + rng.integers(2, 120, len(c))),
                strict=True,
            )
        )
        fields = ("channel", "unit", "customer", "response", "touchpoint", "category", "severity", "rating",
                  "text", "language", "occurred_at", "created_at")  # fmt: skip
        self.insert(FeedbackRecord, fields, survey_rows)

        # Other channels: volume follows the stores' traffic, themes their weak points.
        S, D = len(self.stores), DAYS
        n = int(min(6000, max(150, self.n // 50)))
        cells = rng.choice(S * D, size=n, p=(self.volume / self.volume.sum()).ravel())
        store, day = np.sort(cells) // D, np.sort(cells) % D
        channel = rng.choice(len(FB_CHANNELS), size=n, p=FB_CHANNEL_SHARE)
        hour = 8 + rng.choice(len(STORE_HOURS), size=n, p=STORE_HOURS / STORE_HOURS.sum())
        occurred = self.start_epoch + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
        delay = np.where(np.isin(channel, [4, 5]), rng.integers(3600, 86400, n), rng.integers(60, 3600, n))
        weights = NEG_BASE[None, :] * self.neg_mult[store]
        weights[:, APP] *= np.where(self.cal.app_wave[day], 4.0, 1.0)
        theme = _pick_rows(rng, weights)
        english = rng.random(n) < 0.1
        with_customer = (channel < 4) & (rng.random(n) < 0.55)
        pick = self.cust_start[store] + np.floor(rng.random(n) * self.cust_count[store]).astype(np.int64)
        customer = np.where(with_customer, self.customer_ids[pick], 0)
        u = rng.random(n)
        praise = (channel == 4) & (u < 0.35)  # some online reviews are good ones
        severity = np.zeros(n, dtype=np.int64)
        for k, ch in enumerate(FB_CHANNELS):
            m = np.flatnonzero(channel == k)
            severity[m] = rng.choice(4, size=len(m), p=SEVERITY_BY_CHANNEL[ch])
        severity[praise] = 0
        theme[severity == 3] = QUALITY  # critical means food safety
        stars = np.where(
            praise, rng.choice([4, 5], size=n, p=[0.4, 0.6]), rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
        )
        rnd = self.text_rnd
        texts: list[str] = []
        for i in range(n):
            ch = FB_CHANNELS[channel[i]]
            lang = "en" if english[i] else "zh"
            if praise[i]:
                body = _praise(rnd, lang, int(_pick_rows(rng, POS_BASE[None, :])[0]), -1)
            elif severity[i] == 3:
                body = _critical(rnd, lang)
            else:
                body = _complaint(rnd, lang, int(theme[i]), -1, bool(self.cal.app_wave[day[i]]))
            texts.append(FB_PREFIX[ch][1 if english[i] else 0] + body)
        theme_names = np.array(THEMES, dtype=object)[theme]
        other_rows = list(
            zip(
                np.array(FB_CHANNELS, dtype=object)[channel].tolist(),
                store_unit[store].tolist(),
                _objects(customer, customer > 0),
                [None] * n,
                [TOUCHPOINT[t] for t in theme_names.tolist()],
                np.where(praise, "", theme_names).tolist(),
                np.array(SEVERITIES, dtype=object)[severity].tolist(),
                _objects(stars.astype(float), channel == 4),
                texts,
                np.where(english, "en", "zh-hans").tolist(),
                self.stamps(occurred),
                self.stamps(occurred + delay),
                strict=True,
            )
        )
        self.insert(FeedbackRecord, fields, other_rows)
        ids = np.array(
            FeedbackRecord.objects.filter(unit__path__startswith=company.path, response__isnull=True)
            .order_by("id")
            .values_list("id", flat=True),
            dtype=np.int64,
        )
        if len(ids) != n:
            raise RuntimeError(f"expected {n} demo feedback records, found {len(ids)}")
        self.complaints = {
            "store": store,
            "channel": channel,
            "severity": severity,
            "theme": theme,
            "english": english,
            "customer": customer,
            "created": occurred + delay,
        }
        self.say(f"feedback: {len(c):,} survey comments, {n:,} from other channels")
        return ids

    def write_cases(
        self, company: OrgUnit, g: _Generated, response_ids: np.ndarray, fb_ids: np.ndarray
    ) -> None:
        rng = self.rng["cases"]
        c = g.extra["commented"]
        severe = np.where(
            g.survey[c] == CSAT, g.csat[c] <= 2, np.where(g.survey[c] == CES, g.ces[c] <= 2, g.nps[c] <= 6)
        )
        r = c[severe & (rng.random(len(c)) < 0.6)]  # the detractor rule opens a case for most of them
        fb = self.complaints
        f = np.flatnonzero(fb["severity"] >= 2)
        nr, nf = len(r), len(f)
        store = np.concatenate([g.store[r], fb["store"][f]])
        company_level = np.concatenate([g.company_level[r], np.zeros(nf, dtype=bool)])
        english = np.concatenate([g.english[r], fb["english"][f]])
        theme = np.concatenate([g.theme[r], fb["theme"][f]])
        created = np.concatenate([g.submitted[r], fb["created"][f]]) + rng.integers(60, 900, nr + nf)
        customer = np.concatenate([g.customer[r], fb["customer"][f]])
        # Priority: the angrier the score, the higher; food safety is urgent.
        score = np.where(
            g.survey[r] == CSAT, g.csat[r] * 2 - 2, np.where(g.survey[r] == CES, g.ces[r], g.nps[r])
        )
        u = rng.random(nr)
        p_resp = np.where(
            score <= 2,
            np.where(u < 0.12, 3, 2),
            np.where(score <= 4, np.where(u < 0.3, 2, 1), np.where(u < 0.4, 0, 1)),
        )
        p_fb = np.where(fb["severity"][f] == 3, 3, 2)
        priority = np.concatenate([p_resp, p_fb])
        # Status from age (see CASE_STATUSES): hours to resolve, then one to four days to close.
        created = np.minimum(created, self.now_epoch - 60)
        age_h = (self.now_epoch - created) / 3600.0
        slow = np.where(self.declining[store], 2.0, 1.0)
        hours = np.minimum(np.exp(rng.normal(np.log(20.0), 0.9, nr + nf)) * slow, CASE_MAX_HOURS)
        close_lag = rng.uniform(24.0, 96.0, nr + nf)
        answer_h = hours / 4  # the first call back comes a quarter of the way in
        u = rng.random(nr + nf)
        status = np.select(
            [
                age_h >= hours + close_lag,
                age_h >= hours,
                age_h >= answer_h,
                (age_h < 1.0) & (u < 0.5),
            ],
            [5, 4, np.where(u < 0.8, 2, 3), 0],
            default=1,
        ).astype(np.int64)
        done = status >= 4
        resolved = created + (hours * 3600).astype(np.int64)
        closed = resolved + (close_lag * 3600).astype(np.int64)
        sla = np.array(SLA_HOURS)[priority] * 3600
        # Assignee: an agent of the store (its manager for a fifth), nobody while the case is new.
        assignee: list[int | None] = []
        pick = rng.random(nr + nf)
        for i in range(nr + nf):
            if status[i] == 0:
                assignee.append(None)
                continue
            pool = self.company_cx if company_level[i] else self.store_staff[store[i]]
            if not company_level[i] and pick[i] < 0.2:
                assignee.append(pool[0])
            else:
                assignee.append(pool[int(pick[i] * 1000) % len(pool)])
        # Resolved and closed cases carry what closing requires: a root cause (by theme) and a
        # resolution, a fifth of them compensated; worked cases record their first response.
        from manyi.cases.models import RootCause

        cause_ids = dict(RootCause.objects.values_list("code", "pk"))
        by_theme = [cause_ids.get(CASE_ROOT_CAUSE.get(t, "process-handoff")) for t in (*THEMES, "")]
        cause = np.array(by_theme, dtype=object)[np.where(theme >= 0, theme, len(THEMES))]
        resolution = rng.choice(len(CASE_RESOLUTIONS), size=nr + nf, p=CASE_RESOLUTION_SHARE)
        amount = np.round(rng.choice((20.0, 50.0, 88.0, 100.0, 200.0), size=nr + nf), 2)
        compensated = done & (np.array(CASE_RESOLUTIONS)[resolution] == "compensation")
        answered = status >= 2
        first_answer = created + (answer_h * 3600).astype(np.int64)
        titles: list[str] = []
        for i in range(nr + nf):
            zh, en = THEME_LABEL[THEMES[theme[i]]] if theme[i] >= 0 else ("其他", "Other")
            if i < nr:
                j = r[i]
                if g.survey[j] == CSAT:
                    title = (
                        f"服务不满意（CSAT {g.csat[j]}）：{zh}",
                        f"Dissatisfied with the visit (CSAT {g.csat[j]}): {en}",
                    )
                elif g.survey[j] == CES:
                    title = (
                        f"问题解决费力（CES {g.ces[j]}）：{zh}",
                        f"Hard to get help (CES {g.ces[j]}): {en}",
                    )
                else:
                    title = (
                        f"推荐意愿低（NPS {g.nps[j]}）：{zh}",
                        f"Unlikely to recommend (NPS {g.nps[j]}): {en}",
                    )
            else:
                k = f[i - nr]
                label = FB_CHANNEL_LABEL[FB_CHANNELS[fb["channel"][k]]]
                urgent = fb["severity"][k] == 3
                title = (
                    f"{'【食品安全】' if urgent else ''}{label[0]}：{zh}",
                    f"{'[Food safety] ' if urgent else ''}{label[1]}: {en}",
                )
            titles.append(title[1] if english[i] else title[0])
        store_unit = np.array([s.unit.pk for s in self.stores])
        loop = self.build_loop(company)
        critical = np.concatenate([np.zeros(nr, dtype=bool), fb["severity"][f] == 3])
        version = [
            loop.detractors if i < nr else (loop.critical if critical[i] else loop.serious)
            for i in range(nr + nf)
        ]
        policy = np.array([loop.policies[p] for p in PRIORITIES], dtype=np.int64)[priority]
        rows = list(
            zip(
                np.where(company_level, company.pk, store_unit[store]).tolist(),
                [*response_ids[r].tolist(), *([None] * nf)],
                [*([None] * nr), *fb_ids[f].tolist()],
                _objects(customer, customer > 0),
                titles,
                np.array(CASE_STATUSES, dtype=object)[status].tolist(),
                np.array(PRIORITIES, dtype=object)[priority].tolist(),
                assignee,
                self.stamps(created + sla[:, 0]),
                self.stamps(created + sla[:, 1]),
                self.stamps(created),
                _objects(np.array(self.stamps(closed), dtype=object), status == 5),
                _objects(np.array(self.stamps(resolved), dtype=object), done),
                _objects(np.array(self.stamps(first_answer), dtype=object), answered),
                _objects(cause, done),
                np.where(done, np.array(CASE_RESOLUTIONS, dtype=object)[resolution], "").tolist(),
                [str(a) if ok else None for a, ok in zip(amount.tolist(), compensated.tolist(), strict=True)],
                [v.pk for v in version],
                policy.tolist(),
                sla[:, 0].tolist(),
                sla[:, 1].tolist(),
                # Closed cases asked their customer again when they closed (or could not: no one known).
                np.where(status == 5, np.where(customer > 0, "sent", "skipped"), "").tolist(),
                _objects(np.array(self.stamps(closed), dtype=object), (status == 5) & (customer > 0)),
                strict=True,
            )
        )
        fields = ("unit", "response", "feedback", "customer", "title", "status", "priority", "assignee",
                  "first_response_due", "resolution_due", "created_at", "closed_at", "resolved_at",
                  "first_responded_at", "root_cause", "resolution", "compensation_amount",
                  "rule_version_id", "sla_policy", "first_response_target", "resolution_target",
                  "resurvey_status", "resurvey_sent_at")  # fmt: skip
        self.insert(Case, fields, rows)
        # Each case is a match of the rule that opened it, so the rule pages show their history.
        case_ids = list(
            Case.objects.filter(unit__path__startswith=company.path)
            .order_by("id")
            .values_list("id", flat=True)
        )
        source_ids = [*response_ids[r].tolist(), *fb_ids[f].tolist()]
        unit_ids = np.where(company_level, company.pk, store_unit[store]).tolist()
        matched = self.stamps(created)
        self.insert(
            RuleMatch,
            ("rule", "version", "kind", "source_id", "unit", "matched_at", "outcome"),
            [
                (
                    version[i].rule_id,
                    version[i].pk,
                    "response" if i < nr else "feedback",
                    source_ids[i],
                    unit_ids[i],
                    matched[i],
                    f'{{"case": {case_ids[i]}, "case_created": true}}',
                )
                for i in range(nr + nf)
            ],
        )
        self.write_case_timelines(
            case_ids, status, assignee, english, created, first_answer, resolved, closed, cause, resolution,
            np.where(compensated, amount, 0.0), policy, version, customer > 0,
        )  # fmt: skip
        # The rules have seen everything loaded: the worker judges only what comes in from now on.
        for kind, ids in (("response", response_ids), ("feedback", fb_ids)):
            top = int(ids.max()) if len(ids) else 0
            EvaluationCursor.objects.update_or_create(
                kind=kind,
                defaults={"evaluated_through": top, "seen_through": top, "updated_at": self.now},
            )
        self.say(f"cases: {nr + nf:,} ({int((status < 4).sum()):,} open)")

    def write_case_timelines(
        self,
        case_ids: list[int],
        status: np.ndarray,
        assignee: list[int | None],
        english: np.ndarray,
        created: np.ndarray,
        first_answer: np.ndarray,
        resolved: np.ndarray,
        closed: np.ndarray,
        cause: np.ndarray,
        resolution: np.ndarray,
        amount: np.ndarray,
        policy: np.ndarray,
        version: list[Any],
        has_customer: np.ndarray,
    ) -> None:
        """Each case's log, as working it writes one: opened and assigned, the call back to the
        customer, waiting for them, resolved with the root cause and resolution, closed and the
        customer asked again."""
        from manyi.cases.models import CaseEvent, RootCause

        usernames = dict(
            get_user_model().objects.filter(pk__in=set(self.user_ids)).values_list("pk", "username")
        )
        codes = dict(RootCause.objects.values_list("pk", "code"))
        rng = self.rng["cases"]
        wait_at = first_answer + (
            (self.now_epoch - first_answer) * rng.uniform(0.2, 0.8, len(case_ids))
        ).astype(np.int64)
        stamp = self.stamps
        t_created, t_answer, t_wait = stamp(created), stamp(first_answer), stamp(wait_at)
        t_resolved, t_closed = stamp(resolved), stamp(closed)
        called = ("已致电客户，致歉并了解了情况。", "Called the customer, apologised and heard them out.")
        # The payloads repeat (a few rule versions, policies, staff, causes): encode each once.
        encoded: dict[tuple[Any, ...], str] = {}

        def js(payload: dict[str, Any]) -> str:
            key = tuple(payload.items())
            if key not in encoded:
                encoded[key] = json.dumps(payload)
            return encoded[key]

        rows: list[tuple[Any, ...]] = []
        for i, case_id in enumerate(case_ids):
            st, who, en = int(status[i]), assignee[i], bool(english[i])
            opened = {"rule_version_id": version[i].pk, "sla_policy_id": int(policy[i])}
            rows.append((case_id, "opened", None, "", "", "", "new", js(opened), t_created[i]))
            if who is None:
                continue
            given = {"from": None, "to": who, "how": "manager", "username": usernames.get(who, "")}
            rows.append((case_id, "assignment", None, "", "", "new", "assigned", js(given), t_created[i]))
            if st < 2:
                continue
            rows.append((case_id, "contact_out", who, called[en], "phone", "", "", "{}", t_answer[i]))
            rows.append((case_id, "status", who, "", "", "assigned", "in_progress", "{}", t_answer[i]))
            if st == 3:
                rows.append((case_id, "status", who, "", "", "in_progress", "waiting", "{}", t_wait[i]))
            if st < 4:
                continue
            finished = {
                "root_cause": codes.get(cause[i]),
                "resolution": str(CASE_RESOLUTIONS[int(resolution[i])]),
                "compensation_amount": f"{amount[i]:.2f}" if amount[i] else None,
                "compensation_voucher": "",
            }
            data = js(finished)
            rows.append((case_id, "status", who, "", "", "in_progress", "resolved", data, t_resolved[i]))
            if st == 5:
                rows.append((case_id, "status", who, "", "", "resolved", "closed", data, t_closed[i]))
                asked = {"status": "sent" if has_customer[i] else "skipped", "channel": "sms"}
                reason = "" if has_customer[i] else "no customer"
                rows.append((case_id, "resurvey", None, reason, "", "", "", js(asked), t_closed[i]))
        fields = (
            "case",
            "kind",
            "actor",
            "body",
            "channel",
            "from_status",
            "to_status",
            "data",
            "created_at",
        )
        self.insert(CaseEvent, fields, rows)

    def build_loop(self, company: OrgUnit) -> _Loop:
        """What opened the cases: SLA policies by priority (SLA_HOURS), a rule for detractors who left
        a comment (a case and a re-survey) and two for serious complaints, saved when the company
        started with Manyi."""
        from manyi.cases.actions import do_save_sla_policy
        from manyi.rules.actions import do_save_rule

        names = {
            "low": "低优先级 · Low",
            "normal": "普通 · Normal",
            "high": "高优先级 · High",
            "urgent": "紧急 · Urgent",
        }
        policies = {
            p: do_save_sla_policy(
                name=names[p], unit=company, priority=p, first_response_hours=first, resolution_hours=done
            ).pk
            for p, (first, done) in zip(PRIORITIES, SLA_HOURS, strict=True)
        }
        detractor = {
            "all": [
                {
                    "any": [
                        {"field": "nps", "op": "<=", "value": 6},
                        {"field": "csat", "op": "<=", "value": 2},
                        {"field": "ces", "op": "<=", "value": 2},
                    ]
                },
                {"field": "text", "op": "present"},
            ]
        }
        nps_survey = self.surveys[REL].slug
        rules = [
            (
                "hejia-detractors",
                "贬损者回访 · Detractor follow-up",
                "responses",
                detractor,
                [
                    {"type": "open_case", "priority": "normal"},
                    {"type": "resurvey", "list": "hejia-detractors", "survey": nps_survey},
                ],
                30,
            ),
            (
                "hejia-food-safety",
                "食品安全投诉 · Food-safety complaint",
                "feedback",
                {"field": "severity", "op": ">=", "value": "critical"},
                [
                    {"type": "open_case", "priority": "urgent"},
                    {"type": "notify", "roles": ["unit_manager", "cx_manager"]},
                ],
                10,
            ),
            (
                "hejia-serious-complaints",
                "严重投诉 · Serious complaint",
                "feedback",
                {"field": "severity", "op": ">=", "value": "high"},
                [{"type": "open_case", "priority": "high"}, {"type": "tag", "tags": ["serious"]}],
                20,
            ),
        ]
        versions = {}
        for slug, name, applies_to, condition, actions, position in rules:
            rule = do_save_rule(
                condition=condition,
                actions=actions,
                unit=company,
                name=name,
                slug=slug,
                applies_to=applies_to,
                position=position,
                now=self.founded,
            )
            versions[slug] = rule.current_version
        return _Loop(
            policies=policies,
            detractors=versions["hejia-detractors"],
            critical=versions["hejia-food-safety"],
            serious=versions["hejia-serious-complaints"],
        )

    def backdate(self, company: OrgUnit) -> None:
        """The organisation and its surveys existed before the first answer."""
        under = company.path
        OrgUnit.objects.filter(path__startswith=under).update(created_at=self.founded)
        Survey.objects.filter(unit=company).update(created_at=self.founded)
        SurveyVersion.objects.filter(survey__unit=company).update(created_at=self.founded)
        SurveyLink.objects.filter(survey__unit=company).update(created_at=self.founded)
        RoleAssignment.objects.filter(unit__path__startswith=under).update(created_at=self.founded)


# --- comments -----------------------------------------------------------------------------------------


def _fill(rnd: random.Random, phrase: str) -> str:
    return phrase.format(
        n=rnd.choice((15, 20, 25, 30, 40)),
        k=rnd.choice((2, 3)),
        y=rnd.choice((3, 5, 8, 12, 20)),
        h=rnd.choice((2, 3, 4, 5)),
    )


def _phrase(rnd: random.Random, lang: str, theme: int, kind: str, app_wave: bool = False) -> str:
    options = LEX[THEMES[theme]][lang][kind]
    if kind == "neg" and app_wave and theme == APP and rnd.random() < 0.7:
        return _fill(rnd, options[rnd.choice(APP_WAVE_PHRASES)])
    return _fill(rnd, rnd.choice(options))


def _lower_first(text: str) -> str:
    return text if text.startswith(("I ", "I'")) else text[:1].lower() + text[1:]


def _complaint(rnd: random.Random, lang: str, theme: int, second: int, app_wave: bool) -> str:
    words = EN if lang == "en" else ZH
    text = rnd.choice(words["neg_open"]) + _phrase(rnd, lang, theme, "neg", app_wave)
    if second >= 0:
        joiner = rnd.choice(words["and"])
        more = _phrase(rnd, lang, second, "neg", app_wave)
        text += joiner + (more if lang == "zh" else _lower_first(more))
    if rnd.random() < 0.5:
        fix = rnd.choice(LEX[THEMES[theme]][lang]["fix"])
        return text + ("，" + fix + "。" if lang == "zh" else ". " + fix + ".")
    return text + rnd.choice(words["neg_close"])


def _praise(rnd: random.Random, lang: str, theme: int, second: int) -> str:
    words = EN if lang == "en" else ZH
    if rnd.random() < 0.12:
        return rnd.choice(words["short_pos"])
    text = rnd.choice(words["pos_open"]) + _phrase(rnd, lang, theme, "pos")
    if second >= 0:
        more = _phrase(rnd, lang, second, "pos")
        text += ("，" + more) if lang == "zh" else (". " + more)
    return text + rnd.choice(words["pos_close"])


def _mixed(rnd: random.Random, lang: str, theme: int, good: int, app_wave: bool) -> str:
    words = EN if lang == "en" else ZH
    but = rnd.choice(words["but"])
    bad = _phrase(rnd, lang, theme, "neg", app_wave)
    text = _phrase(rnd, lang, good, "pos") + but + (bad if lang == "zh" else _lower_first(bad))
    if rnd.random() < 0.4:
        fix = rnd.choice(LEX[THEMES[theme]][lang]["fix"])
        return text + ("，" + fix + "。" if lang == "zh" else ". " + fix + ".")
    return text + ("。" if lang == "zh" else ".")


def _critical(rnd: random.Random, lang: str) -> str:
    words = EN if lang == "en" else ZH
    text = rnd.choice(words["critical"]).format(item=rnd.choice(words["items"]), d=rnd.choice((1, 2, 3, 5)))
    return text + rnd.choice(words["critical_close"])
