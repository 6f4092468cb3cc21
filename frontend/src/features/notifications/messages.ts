// The notifications page, in both languages.
export const notificationsMessages = {
  en: {
    notifications: {
      title: "Notifications",
      listLabel: "My notifications, unread first",
      unreadOnly: "Unread only",
      markAllRead: "Mark all as read",
      markRead: "Mark as read",
      unread: "Unread",
      read: "Read",
      empty: "No notifications.",
      emptyUnread: "No unread notifications.",
      someone: "A colleague",
      kinds: {
        mention: "{actor} mentioned you on ticket #{number}",
        mentionDepartment: "{actor} mentioned {department} on ticket #{number}",
        assigned: "Ticket #{number} was assigned to you",
        invited: "{actor} invited your department onto ticket #{number}",
        other: "Update on ticket #{number}",
      },
    },
  },
  "zh-CN": {
    notifications: {
      title: "通知",
      listLabel: "我的通知，未读在前",
      unreadOnly: "仅看未读",
      markAllRead: "全部标为已读",
      markRead: "标为已读",
      unread: "未读",
      read: "已读",
      empty: "暂无通知。",
      emptyUnread: "没有未读通知。",
      someone: "同事",
      kinds: {
        mention: "{actor} 在工单 #{number} 中提到了您",
        mentionDepartment: "{actor} 在工单 #{number} 中提到了 {department}",
        assigned: "工单 #{number} 已分配给您",
        invited: "{actor} 邀请您的部门协办工单 #{number}",
        other: "工单 #{number} 有更新",
      },
    },
  },
};
