"""All models, importable from one place (Alembic and the CLI need them registered)."""

from .appointments import (
    APPOINTMENT_STATUS_LABELS,
    OCCUPYING_STATUSES,
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    ChangeKind,
    MeetingLink,
    MeetingProvider,
    Rating,
)
from .attendance import (
    ATTENDANCE_LABELS,
    COURSE_REQUEST_STATUS_LABELS,
    DEFAULT_POLICY,
    Attendance,
    AttendancePolicy,
    CourseRequest,
    CourseRequestStatus,
)
from .availability import EXCEPTION_KIND_LABELS, AvailabilityException, ExceptionKind, TimeOff, WeeklyRule
from .booking import Cart, CartItem, Hold, SlotLock
from .catalog import DEFAULT_COURSE_RATE_CENTS, Course, Tutor, TutorCourse
from .coupons import COUPON_KIND_LABELS, Coupon, CouponKind, CouponRedemption
from .credits import CreditEntry, CreditKind
from .integrations import (
    EVENT_FAMILY_NAMES,
    OUTBOX_EVENT_TYPE_LABELS,
    OUTBOX_STATUS_LABELS,
    AuditLog,
    GatewayEvent,
    OutboxEvent,
    OutboxEventType,
    OutboxStatus,
)
from .messaging import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPE_LABELS,
    ATTACHMENTS_PER_MESSAGE,
    MESSAGE_MAX_LENGTH,
    Attachment,
    AttachmentBlob,
    AttachmentType,
    ConversationRead,
    SessionMessage,
    StorageBackend,
)
from .orders import (
    DISPUTE_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    Dispute,
    DisputeStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    ReceiptCounter,
    Refund,
    RefundItem,
    RefundStatus,
)
from .payouts import PAYOUT_STATUS_LABELS, PayoutAdjustment, PayoutStatus, TutorPayout
from .support import (
    TICKET_CATEGORY_LABELS,
    TICKET_PRIORITY_LABELS,
    TICKET_STATUS_LABELS,
    Ticket,
    TicketCategory,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from .types import MAX_INTEGER, SESSION_DURATIONS, YEARS, UTCDateTime, utcnow
from .users import BACK_OFFICE_ROLES, ROLE_LABELS, USER_STATUS_LABELS, Role, User, UserStatus, normalize_email

__all__ = [name for name in dir() if not name.startswith("_")]
