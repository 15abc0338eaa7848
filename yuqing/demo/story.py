"""The demo's script: what appears where, and when (minutes after the story begins).

All of it is fictional and written for the demo. Routine bureau news, unrelated news and chatter
are there before the story begins; then a post says a notary office forged an old man's power of
attorney, a well-followed account reposts it, a forum and two news outlets pick it up (one of them
serves GBK), and the bureau's statement appears on its own site when the demo publishes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["news", "rss", "weibo", "forum", "bureau"]


@dataclass(frozen=True)
class Item:
    key: str
    channel: Channel
    at_minutes: int  # after the story's start; negative: already there when it starts
    title: str
    body: str
    author: str = ""
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    outlet: str = ""
    gbk: bool = False  # served as a GBK page (news articles)


ROUTINE: tuple[Item, ...] = (
    Item("n1", "news", -1500, "市司法局召开全市公共法律服务工作推进会",
         "会议总结了今年以来全市公共法律服务体系建设情况，部署下一阶段重点任务。会议要求，"
         "各区司法局要进一步完善公共法律服务中心、工作站、联系点三级平台，推动法律咨询、"
         "人民调解、法律援助等服务向基层延伸，让群众在家门口就能获得便捷的法律服务。",
         outlet="都市晨报"),
    Item("n2", "news", -900, "我市开展“法治进社区”主题宣传活动",
         "活动期间，律师、公证员和人民调解员走进二十余个社区，围绕婚姻家庭、遗嘱继承、"
         "劳动合同等群众关心的问题现场解答咨询，发放宣传资料三千余份。",
         outlet="都市晨报"),
    Item("n3", "news", -600, "地铁3号线二期工程进入铺轨阶段",
         "记者从市轨道交通集团获悉，地铁3号线二期工程日前开始铺轨，预计明年下半年开通试运营。"
         "二期工程全长约十二公里，设站九座，建成后将串联城东多个居住片区。",
         outlet="都市晨报"),
    Item("n4", "news", -300, "本周末全市气温回升 最高可达18℃",
         "据市气象台预报，受暖湿气流影响，本周末全市以多云天气为主，气温明显回升，"
         "最高气温可达18℃，适宜户外活动，早晚温差较大，市民注意适时增减衣物。",
         outlet="都市晨报"),
    Item("r1", "rss", -800, "市法律援助中心推出“预约上门”服务",
         "针对行动不便的老年人、残疾人，市法律援助中心推出预约上门服务，"
         "群众可通过热线电话预约，工作人员将上门受理法律援助申请。", outlet="法治生活报"),
    Item("r2", "rss", -200, "社区志愿者为老人义务理发",
         "重阳节前夕，滨江街道组织社区志愿者为辖区老人义务理发、测量血压，受到居民欢迎。",
         outlet="法治生活报"),
    Item("f1", "forum", -700, "请问办理遗嘱公证需要带哪些材料？",
         "家里老人想立遗嘱，打算去公证处办个遗嘱公证，需要带身份证、户口本和房产证吗？"
         "有办过的朋友说说流程吗，大概多久能办好？", author="江边的风"),
    Item("f2", "forum", -400, "周末带娃去哪玩？湿地公园菊花展开了",
         "湿地公园菊花展开幕了，品种很多，停车也方便，推荐周末带孩子去看看。", author="小鱼妈妈"),
    Item("w1", "weibo", -240, "",
         "今天去区公共法律服务中心咨询劳动纠纷的事，工作人员讲得很耐心，还帮我写好了调解申请，点赞！",
         author="奔跑的蜗牛", reposts=2, comments=5, likes=31),
    Item("w2", "weibo", -90, "", "下班路上的晚霞太美了，拍了好多张照片。",
         author="城市观察日记", reposts=1, comments=3, likes=22),
    Item("b1", "bureau", -1400, "市司法局关于开展2026年度律师执业年度考核工作的通知",
         "各律师事务所：根据有关规定，现就开展2026年度律师执业年度考核工作通知如下。"
         "请各律师事务所按时报送考核材料。", outlet="市司法局"),
)

EVENT: tuple[Item, ...] = (
    Item("e1", "weibo", 20, "",
         "求助！我父亲今年78岁，家里唯一的一套房子上个月被人过户卖掉了。对方拿着一份委托书的"
         "公证书去办的过户，可我父亲根本没签过字，也从没去过公证处！现在才知道是区里一家公证处的"
         "工作人员和中介串通，伪造委托书给办了公证。老人天天以泪洗面，公证处到底是怎么审核的？"
         "#老人房产被过户#", author="小陈的日常", reposts=86, comments=230, likes=512),
    Item("e2", "weibo", 40, "",
         "【公证处工作人员涉嫌伪造委托书 78岁老人唯一住房被过户】据网友反映，某区公证处工作人员"
         "涉嫌与房产中介串通，伪造老人委托书办理公证，致老人唯一住房被转卖。公证是国家证明，"
         "若情况属实性质恶劣，期待司法行政部门尽快调查并回应。", author="法治观察者",
         reposts=1860, comments=2400, likes=9800),
    Item("e3", "weibo", 55, "",
         "转发：同样的遭遇！去年我家也是被一份假的公证委托书把房子过户了，维权到现在。"
         "公证处伪造委托书必须给个说法！", author="维权路漫漫", reposts=340, comments=410,
         likes=1200),
    Item("e4", "forum", 70, "区公证处伪造委托书帮中介过户老人房子，有人管吗？",
         "看到网上说的那件事，78岁老人的房子被公证处工作人员伪造委托书过户了。公证处不是国家的"
         "证明机构吗？出了这种事司法局管不管？希望有关部门尽快调查，给老人一个说法。",
         author="老城根下"),
    Item("e5", "news", 90, "78岁老人唯一住房遭“被过户” 公证处工作人员涉嫌伪造委托书",
         "近日，有网友发帖反映，其78岁的父亲名下唯一住房在本人不知情的情况下被过户转卖，"
         "办理过户所用的委托书公证书系公证处工作人员与房产中介串通伪造。记者联系到涉事公证处，"
         "对方表示正在核实情况。记者随后致电市司法局，工作人员表示已关注到此事，正在调查。"
         "律师表示，公证机构及其工作人员伪造公证文书的，依法应承担相应的法律责任。",
         outlet="都市晨报", gbk=True),
    Item("e6", "rss", 105, "“假委托书”公证引关注 律师：公证机构应承担赔偿责任",
         "网传某区公证处工作人员伪造委托书为房产过户办理公证一事持续引发关注。律师表示，"
         "公证机构及其公证员因过错给当事人造成损失的，应当承担相应的赔偿责任；涉嫌伪造公文的，"
         "还可能被追究刑事责任。", outlet="法治生活报"),
)

# Published by the demo itself (the office posts it on the bureau's site, then records it).
STATEMENT = Item(
    "s1", "bureau", 215, "关于网民反映某公证处办理委托书公证问题的情况通报",
    "近日，网民反映某区公证处工作人员涉嫌伪造委托书办理公证、致老人住房被过户一事。市司法局"
    "高度重视，已第一时间成立调查组进驻该公证处，涉事公证员已暂停执业，相关公证书已启动复查"
    "撤销程序，并依法配合公安机关开展调查。我局将依法依规严肃处理，及时公布调查进展。"
    "感谢社会各界的关注和监督。", outlet="市司法局")
