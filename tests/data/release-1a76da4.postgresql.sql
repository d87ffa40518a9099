--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: assignment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.assignment (
    campaign_id character varying NOT NULL,
    stage_id character varying NOT NULL,
    institution_id character varying NOT NULL,
    expert_id character varying NOT NULL
);


--
-- Name: audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit (
    id integer NOT NULL,
    campaign_id character varying NOT NULL,
    institution_id character varying,
    stage_id character varying,
    action character varying NOT NULL,
    source character varying,
    dest character varying,
    at timestamp with time zone NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    detail character varying
);


--
-- Name: audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_id_seq OWNED BY public.audit.id;


--
-- Name: campaign; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.campaign (
    id character varying NOT NULL,
    title character varying NOT NULL,
    timezone character varying NOT NULL,
    digest character varying NOT NULL,
    definition character varying NOT NULL,
    loaded_at timestamp with time zone NOT NULL
);


--
-- Name: expert; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.expert (
    campaign_id character varying NOT NULL,
    id character varying NOT NULL,
    institution_id character varying NOT NULL,
    name character varying NOT NULL,
    email character varying NOT NULL
);


--
-- Name: extension; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.extension (
    id integer NOT NULL,
    campaign_id character varying NOT NULL,
    institution_id character varying NOT NULL,
    stage_id character varying NOT NULL,
    until timestamp with time zone NOT NULL,
    reason character varying NOT NULL,
    granted_at timestamp with time zone NOT NULL
);


--
-- Name: extension_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.extension_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: extension_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.extension_id_seq OWNED BY public.extension.id;


--
-- Name: institution; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.institution (
    campaign_id character varying NOT NULL,
    id character varying NOT NULL,
    "position" integer NOT NULL,
    name character varying NOT NULL,
    email character varying NOT NULL
);


--
-- Name: outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox (
    id integer NOT NULL,
    key character varying NOT NULL,
    campaign_id character varying NOT NULL,
    recipient character varying NOT NULL,
    role character varying NOT NULL,
    institution_id character varying,
    stage_id character varying,
    rule character varying NOT NULL,
    kind character varying NOT NULL,
    deadline timestamp with time zone,
    send_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    state character varying NOT NULL,
    reason character varying,
    attempts integer NOT NULL,
    retry_at timestamp with time zone,
    message_id character varying,
    planned_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    reported boolean NOT NULL
);


--
-- Name: outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.outbox_id_seq OWNED BY public.outbox.id;


--
-- Name: progress; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.progress (
    campaign_id character varying NOT NULL,
    institution_id character varying NOT NULL,
    stage_id character varying NOT NULL,
    status character varying NOT NULL,
    opens_at timestamp with time zone NOT NULL,
    due_at timestamp with time zone NOT NULL,
    locks_at timestamp with time zone NOT NULL,
    extended boolean NOT NULL,
    submitted_at timestamp with time zone,
    planned_due timestamp with time zone
);


--
-- Name: review; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.review (
    campaign_id character varying NOT NULL,
    stage_id character varying NOT NULL,
    institution_id character varying NOT NULL,
    expert_id character varying NOT NULL,
    at timestamp with time zone NOT NULL,
    levels character varying NOT NULL,
    recommendations character varying NOT NULL
);


--
-- Name: stage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stage (
    campaign_id character varying NOT NULL,
    id character varying NOT NULL,
    "position" integer NOT NULL,
    kind character varying NOT NULL,
    actor character varying,
    state character varying NOT NULL,
    opens_at timestamp with time zone NOT NULL,
    due_at timestamp with time zone NOT NULL,
    locks_at timestamp with time zone NOT NULL,
    reminders_planned boolean NOT NULL,
    followup_planned boolean NOT NULL
);


--
-- Name: submission; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.submission (
    id integer NOT NULL,
    campaign_id character varying NOT NULL,
    institution_id character varying NOT NULL,
    stage_id character varying NOT NULL,
    at timestamp with time zone NOT NULL,
    links character varying NOT NULL
);


--
-- Name: submission_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.submission_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: submission_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.submission_id_seq OWNED BY public.submission.id;


--
-- Name: audit id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit ALTER COLUMN id SET DEFAULT nextval('public.audit_id_seq'::regclass);


--
-- Name: extension id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.extension ALTER COLUMN id SET DEFAULT nextval('public.extension_id_seq'::regclass);


--
-- Name: outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox ALTER COLUMN id SET DEFAULT nextval('public.outbox_id_seq'::regclass);


--
-- Name: submission id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.submission ALTER COLUMN id SET DEFAULT nextval('public.submission_id_seq'::regclass);


--
-- Data for Name: assignment; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '2', 'e5');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '2', 'e62');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '4', 'e40');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '4', 'e6');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '5', 'e15');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '5', 'e35');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '6', 'e15');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '6', 'e73');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '15', 'e35');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '15', 'e94');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '35', 'e6');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '35', 'e86');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '40', 'e2');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '40', 'e86');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '62', 'e4');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '62', 'e40');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '73', 'e4');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '73', 'e5');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '86', 'e73');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '86', 'e94');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '94', 'e2');
INSERT INTO public.assignment VALUES ('tomsk-2021', 'list1', '94', 'e62');


--
-- Data for Name: audit; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit VALUES (1, 'tomsk-2021', NULL, NULL, 'load', NULL, NULL, '2021-11-10 02:00:00+00', '2021-11-10 02:00:00+00', '{"digest": "45b66db2ea6f590af681595968f0eea5ffd81dd1d96d8f0dbe361b0f7eacaa6d", "stages": 14, "institutions": 11}');
INSERT INTO public.audit VALUES (2, 'tomsk-2021', NULL, 'fill-form', 'open', 'scheduled', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (3, 'tomsk-2021', '2', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (4, 'tomsk-2021', '4', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (5, 'tomsk-2021', '5', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (6, 'tomsk-2021', '6', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (7, 'tomsk-2021', '15', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (8, 'tomsk-2021', '35', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (9, 'tomsk-2021', '40', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (10, 'tomsk-2021', '62', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (11, 'tomsk-2021', '73', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (12, 'tomsk-2021', '86', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (13, 'tomsk-2021', '94', 'fill-form', 'open', 'upcoming', 'open', '2021-11-18 17:00:00+00', '2021-11-19 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (14, 'tomsk-2021', NULL, 'kickoff-webinar', 'hold', 'scheduled', 'held', '2021-11-19 07:00:00+00', '2021-11-22 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (15, 'tomsk-2021', '2', 'fill-form', 'submit', 'open', 'done', '2021-11-22 03:00:00+00', '2021-11-22 03:00:00+00', '{"links": ["https://dou2.example.org/form"]}');
INSERT INTO public.audit VALUES (16, 'tomsk-2021', NULL, 'list1', 'open', 'scheduled', 'open', '2021-11-24 17:00:00+00', '2021-11-29 05:00:00+00', NULL);
INSERT INTO public.audit VALUES (17, 'tomsk-2021', NULL, 'list1', 'lock', 'open', 'locked', '2021-11-25 16:59:59+00', '2021-11-29 05:00:00+00', NULL);
INSERT INTO public.audit VALUES (18, 'tomsk-2021', NULL, 'list1', 'experts-draw', NULL, NULL, '2021-11-25 16:59:59+00', '2021-11-29 05:00:00+00', '{"automatic": true, "problems": []}');
INSERT INTO public.audit VALUES (19, 'tomsk-2021', '4', 'fill-form', 'extend', 'open', 'open', '2021-11-29 05:00:00+00', '2021-11-29 05:00:00+00', '{"until": "2021-12-03T23:59:59+07:00", "reason": "ответственный на больничном", "previous": {"due_at": "2021-11-30T23:59:59+07:00", "locks_at": "2021-11-30T23:59:59+07:00"}}');
INSERT INTO public.audit VALUES (20, 'tomsk-2021', NULL, 'handout1', 'open', 'scheduled', 'open', '2021-11-29 17:00:00+00', '2021-11-30 16:30:00+00', NULL);
INSERT INTO public.audit VALUES (21, 'tomsk-2021', '5', 'fill-form', 'submit', 'open', 'done', '2021-11-30 16:30:00+00', '2021-11-30 16:30:00+00', '{"links": ["https://dou5.example.org/form"]}');
INSERT INTO public.audit VALUES (22, 'tomsk-2021', '6', 'fill-form', 'excuse', 'open', 'excused', '2021-11-30 05:00:00+00', '2021-11-30 05:00:00+00', '{"reason": "закрыт на ремонт"}');
INSERT INTO public.audit VALUES (23, 'tomsk-2021', NULL, 'fill-form', 'lock', 'open', 'locked', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (24, 'tomsk-2021', '15', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (25, 'tomsk-2021', '35', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (26, 'tomsk-2021', '40', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (27, 'tomsk-2021', '62', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (28, 'tomsk-2021', '73', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (29, 'tomsk-2021', '86', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (30, 'tomsk-2021', '94', 'fill-form', 'lock', 'open', 'missed', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (31, 'tomsk-2021', NULL, 'handout1', 'lock', 'open', 'locked', '2021-11-30 16:59:59+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (32, 'tomsk-2021', NULL, 'review1', 'open', 'scheduled', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (33, 'tomsk-2021', '2', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (34, 'tomsk-2021', '4', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (35, 'tomsk-2021', '5', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (36, 'tomsk-2021', '6', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (37, 'tomsk-2021', '15', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (38, 'tomsk-2021', '35', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (39, 'tomsk-2021', '40', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (40, 'tomsk-2021', '62', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (41, 'tomsk-2021', '73', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (42, 'tomsk-2021', '86', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (43, 'tomsk-2021', '94', 'review1', 'open', 'upcoming', 'open', '2021-11-30 17:00:00+00', '2021-12-02 03:00:00+00', NULL);
INSERT INTO public.audit VALUES (44, 'tomsk-2021', '5', 'review1', 'review', NULL, NULL, '2021-12-03 04:00:00+00', '2021-12-03 04:00:00+00', '{"expert": "e15", "levels": {"conditions": "2", "parents": "3"}}');


--
-- Data for Name: campaign; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.campaign VALUES ('tomsk-2021', 'Мониторинг качества дошкольного образования, г. Томск, 2021', 'Asia/Tomsk', '45b66db2ea6f590af681595968f0eea5ffd81dd1d96d8f0dbe361b0f7eacaa6d', '{"areas": [{"id": "conditions", "title": "Образовательные условия"}, {"id": "guidelines", "title": "Образовательные ориентиры"}, {"id": "parents", "title": "Взаимодействие с родителями"}, {"id": "health", "title": "Здоровье, безопасность и повседневный уход"}, {"id": "special-needs", "title": "Условия для лиц с ОВЗ"}], "calendar": {"country": "RU", "extra_days_off": [], "extra_workdays": []}, "coordinator": {"email": "kdo@imc.example.org", "name": "КДО МАУ ИМЦ"}, "default_reminders": null, "id": "tomsk-2021", "institutions": [{"contact": null, "email": "dou2@example.org", "experts": [{"email": "expert2@example.org", "id": "e2", "name": "Эксперт ДОУ № 2"}], "id": "2", "name": "МАДОУ № 2"}, {"contact": null, "email": "dou4@example.org", "experts": [{"email": "expert4@example.org", "id": "e4", "name": "Эксперт ДОУ № 4"}], "id": "4", "name": "МБДОУ № 4 «Монтессори»"}, {"contact": null, "email": "dou5@example.org", "experts": [{"email": "expert5@example.org", "id": "e5", "name": "Эксперт ДОУ № 5"}], "id": "5", "name": "МАДОУ № 5"}, {"contact": null, "email": "dou6@example.org", "experts": [{"email": "expert6@example.org", "id": "e6", "name": "Эксперт ДОУ № 6"}], "id": "6", "name": "МАДОУ № 6"}, {"contact": null, "email": "dou15@example.org", "experts": [{"email": "expert15@example.org", "id": "e15", "name": "Эксперт ДОУ № 15"}], "id": "15", "name": "МАДОУ № 15"}, {"contact": null, "email": "dou35@example.org", "experts": [{"email": "expert35@example.org", "id": "e35", "name": "Эксперт ДОУ № 35"}], "id": "35", "name": "МБДОУ № 35"}, {"contact": null, "email": "dou40@example.org", "experts": [{"email": "expert40@example.org", "id": "e40", "name": "Эксперт ДОУ № 40"}], "id": "40", "name": "МАДОУ № 40"}, {"contact": null, "email": "dou62@example.org", "experts": [{"email": "expert62@example.org", "id": "e62", "name": "Эксперт ДОУ № 62"}], "id": "62", "name": "МБДОУ № 62"}, {"contact": null, "email": "dou73@example.org", "experts": [{"email": "expert73@example.org", "id": "e73", "name": "Эксперт ДОУ № 73"}], "id": "73", "name": "МАДОУ № 73"}, {"contact": null, "email": "dou86@example.org", "experts": [{"email": "expert86@example.org", "id": "e86", "name": "Эксперт ДОУ № 86"}], "id": "86", "name": "МАДОУ № 86"}, {"contact": null, "email": "dou94@example.org", "experts": [{"email": "expert94@example.org", "id": "e94", "name": "Эксперт ДОУ № 94"}], "id": "94", "name": "МАДОУ № 94"}], "levels": [{"id": "1", "title": "Базовый уровень"}, {"id": "2", "title": "Уровень выше базового"}, {"id": "3", "title": "Уровень хорошего качества"}, {"id": "4", "title": "Уровень превосходного качества"}], "locale": "ru", "notifications": null, "operator": {"email": "operator@imc.example.org", "name": "Муниципальный оператор мониторинга"}, "order": {"date": "2021-11-22", "issuer": "Департамент образования администрации Города Томска", "number": "1138"}, "sending": {"window_end": "18:00", "window_start": "09:00", "working_days_only": true}, "stages": [{"actor": null, "after": [], "all_day": false, "audience": ["institutions"], "distinct_from": null, "due_at": "2021-11-19T07:00:00+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "kickoff-webinar", "kind": "event", "list": null, "locks_at": "2021-11-19T07:00:00+00:00", "max_load": null, "opens_at": "2021-11-19T07:00:00+00:00", "reminders": null, "responsible": "КДО МАУ ИМЦ ДОУ №№ 2, 4, 5, 6, 15,35, 40, 62, 86, 94, 73", "result": "Информирование ответственных за организацию и проведение мониторинга в ДОУ о процедуре подготовки информации для заполнения формы мониторинга (документы, методы сбора, ссылки и др.) в соответствии с областями качества (на примере ДОУ №№ 2, 4, 5, 6, 15, 35, 40, 62, 73, 86, 94)", "title": "Вебинар «Организационно-методическое и информационное сопровождение оценочных процедур в соответствии с положением о мониторинге качества дошкольного образования»", "url": "http://moodle.imc.tomsk.ru"}, {"actor": "institution", "after": [], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-11-30T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "fill-form", "kind": "task", "list": null, "locks_at": "2021-11-30T16:59:59+00:00", "max_load": null, "opens_at": "2021-11-18T17:00:00+00:00", "reminders": null, "responsible": "ДОУ", "result": "Сбор и оформление ссылок на материалы мониторинга", "title": "Заполнение утвержденной формы мониторинга", "url": null}, {"actor": "coordinator", "after": [], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-11-25T16:59:59+00:00", "exclude": [], "experts_per_institution": 2, "grace": null, "id": "list1", "kind": "assignment", "list": null, "locks_at": "2021-11-25T16:59:59+00:00", "max_load": null, "opens_at": "2021-11-24T17:00:00+00:00", "reminders": null, "responsible": "МАУ ИМЦ", "result": "Распределение и закрепление за каждым ДОУ двух ответственных экспертов (список 1)", "title": "Составление списка 1 ответственных за проведение первичной внутренней экспертизы", "url": null}, {"actor": "coordinator", "after": ["list1"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-11-30T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "handout1", "kind": "handout", "list": "list1", "locks_at": "2021-11-30T16:59:59+00:00", "max_load": null, "opens_at": "2021-11-29T17:00:00+00:00", "reminders": null, "responsible": "КДО МАУ ИМЦ", "result": null, "title": "Сбор и выдача (согласно списку 1) заполненных форм мониторинга ДОУ для первичной внутренней экспертизы", "url": null}, {"actor": "expert", "after": ["fill-form", "handout1"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-12-05T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "review1", "kind": "task", "list": "list1", "locks_at": "2021-12-05T16:59:59+00:00", "max_load": null, "opens_at": "2021-11-30T17:00:00+00:00", "reminders": null, "responsible": "ДОУ (согласно списку ответственных экспертов)", "result": "Подготовка адресных рекомендаций для корректировки материалов мониторинга", "title": "Первичная внутренняя экспертиза заполненных по областям и уровням достижения показателей качества", "url": null}, {"actor": null, "after": ["review1"], "all_day": true, "audience": ["institutions", "experts"], "distinct_from": null, "due_at": "2021-12-05T17:00:00+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "review1-webinar", "kind": "event", "list": null, "locks_at": "2021-12-05T17:00:00+00:00", "max_load": null, "opens_at": "2021-12-05T17:00:00+00:00", "reminders": null, "responsible": "КДО МАУ ИМЦ ДОУ №№ 2, 4, 5, 6, 15,35, 40, 62, 73, 86, 94", "result": "Выдача рекомендаций для корректировки материалов мониторинга", "title": "Экспертный вебинар по итогам первичной внутренней экспертизы заполненных ДОУ областей мониторинга", "url": "http://moodle.imc.tomsk.ru"}, {"actor": "institution", "after": ["review1-webinar"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-12-12T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "refill", "kind": "task", "list": null, "locks_at": "2021-12-12T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-06T17:00:00+00:00", "reminders": null, "responsible": "ДОУ", "result": "Продолжение сбора информации и оформление ссылок материалов мониторинга", "title": "Заполнение формы мониторинга", "url": null}, {"actor": "coordinator", "after": ["review1"], "all_day": false, "audience": [], "distinct_from": "list1", "due_at": "2021-12-08T16:59:59+00:00", "exclude": [], "experts_per_institution": 2, "grace": null, "id": "list2", "kind": "assignment", "list": null, "locks_at": "2021-12-08T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-07T17:00:00+00:00", "reminders": null, "responsible": "МАУ ИМЦ", "result": "Распределение и закрепление за каждым ДОУ двух ответственных экспертов (список 2)", "title": "Составление списка 2 ответственных за проведение первичной внутренней экспертизы", "url": null}, {"actor": "coordinator", "after": ["list2"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-12-10T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "handout2", "kind": "handout", "list": "list2", "locks_at": "2021-12-10T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-09T17:00:00+00:00", "reminders": null, "responsible": "КДО МАУ ИМЦ", "result": null, "title": "Сбор и выдача ответственным экспертам (согласно списку 2) заполненных форм мониторинга ДОУ для вторичной внутренней экспертизы", "url": null}, {"actor": "expert", "after": ["list2"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-12-14T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "review2", "kind": "task", "list": "list2", "locks_at": "2021-12-14T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-09T17:00:00+00:00", "reminders": null, "responsible": "ДОУ (согласно списку 2 ответственных экспертов)", "result": "Выработка адресных рекомендаций для корректировки материалов мониторинга", "title": "Вторичная внутренняя экспертиза заполненных по областям и уровням достижения показателей качества ДОУ", "url": null}, {"actor": null, "after": ["review2"], "all_day": true, "audience": ["institutions", "experts"], "distinct_from": null, "due_at": "2021-12-14T17:00:00+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "review2-webinar", "kind": "event", "list": null, "locks_at": "2021-12-14T17:00:00+00:00", "max_load": null, "opens_at": "2021-12-14T17:00:00+00:00", "reminders": null, "responsible": "КДО МАУ ИМЦ ДОУ №№ 2, 4, 5, 6, 15,35, 40, 62, 73, 86, 94", "result": "Рекомендации ДОУ для корректировки материалов мониторинга, управленческие решения, обеспечение оценки их эффективности", "title": "Экспертный вебинар по итогам вторичной внутренней экспертизы заполненных по областям и уровням достижения показателей качества ДОУ", "url": "http://moodle.imc.tomsk.ru"}, {"actor": "institution", "after": ["review2"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-12-19T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "final-fix", "kind": "task", "list": null, "locks_at": "2021-12-19T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-14T17:00:00+00:00", "reminders": null, "responsible": "ДОУ", "result": "Итоговая корректировка заполненных форм мониторинга", "title": "Заполнение формы мониторинга", "url": null}, {"actor": "institution", "after": ["final-fix"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2021-12-20T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "operator-submission", "kind": "task", "list": null, "locks_at": "2021-12-20T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-19T17:00:00+00:00", "reminders": null, "responsible": "КДО ДОУ", "result": "Формы мониторинга ДОУ", "title": "Направление заполненных форм мониторинга муниципальному оператору", "url": null}, {"actor": "coordinator", "after": ["final-fix"], "all_day": false, "audience": [], "distinct_from": null, "due_at": "2022-01-20T16:59:59+00:00", "exclude": [], "experts_per_institution": null, "grace": null, "id": "analysis", "kind": "task", "list": null, "locks_at": "2022-01-20T16:59:59+00:00", "max_load": null, "opens_at": "2021-12-19T17:00:00+00:00", "reminders": null, "responsible": "КДО МАУ ИМЦ", "result": "Аналитическая справка", "title": "Сбор, анализ и подготовка сводной аналитической информации по итогам мониторинга показателей качества дошкольного образования в г. Томске (в разрезе учреждений)", "url": null}], "timezone": "Asia/Tomsk", "title": "Мониторинг качества дошкольного образования, г. Томск, 2021"}', '2021-11-10 02:00:00+00');


--
-- Data for Name: expert; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.expert VALUES ('tomsk-2021', 'e2', '2', 'Эксперт ДОУ № 2', 'expert2@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e4', '4', 'Эксперт ДОУ № 4', 'expert4@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e5', '5', 'Эксперт ДОУ № 5', 'expert5@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e6', '6', 'Эксперт ДОУ № 6', 'expert6@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e15', '15', 'Эксперт ДОУ № 15', 'expert15@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e35', '35', 'Эксперт ДОУ № 35', 'expert35@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e40', '40', 'Эксперт ДОУ № 40', 'expert40@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e62', '62', 'Эксперт ДОУ № 62', 'expert62@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e73', '73', 'Эксперт ДОУ № 73', 'expert73@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e86', '86', 'Эксперт ДОУ № 86', 'expert86@example.org');
INSERT INTO public.expert VALUES ('tomsk-2021', 'e94', '94', 'Эксперт ДОУ № 94', 'expert94@example.org');


--
-- Data for Name: extension; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.extension VALUES (1, 'tomsk-2021', '4', 'fill-form', '2021-12-03 16:59:59+00', 'ответственный на больничном', '2021-11-29 05:00:00+00');


--
-- Data for Name: institution; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.institution VALUES ('tomsk-2021', '2', 0, 'МАДОУ № 2', 'dou2@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '4', 1, 'МБДОУ № 4 «Монтессори»', 'dou4@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '5', 2, 'МАДОУ № 5', 'dou5@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '6', 3, 'МАДОУ № 6', 'dou6@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '15', 4, 'МАДОУ № 15', 'dou15@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '35', 5, 'МБДОУ № 35', 'dou35@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '40', 6, 'МАДОУ № 40', 'dou40@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '62', 7, 'МБДОУ № 62', 'dou62@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '73', 8, 'МАДОУ № 73', 'dou73@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '86', 9, 'МАДОУ № 86', 'dou86@example.org');
INSERT INTO public.institution VALUES ('tomsk-2021', '94', 10, 'МАДОУ № 94', 'dou94@example.org');


--
-- Data for Name: outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.outbox VALUES (1, 'tomsk-2021|dou2@example.org|2|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (2, 'tomsk-2021|dou4@example.org|4|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (3, 'tomsk-2021|dou5@example.org|5|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (4, 'tomsk-2021|dou6@example.org|6|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (5, 'tomsk-2021|dou15@example.org|15|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (6, 'tomsk-2021|dou35@example.org|35|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (7, 'tomsk-2021|dou40@example.org|40|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (8, 'tomsk-2021|dou62@example.org|62|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (9, 'tomsk-2021|dou73@example.org|73|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (10, 'tomsk-2021|dou86@example.org|86|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (11, 'tomsk-2021|dou94@example.org|94|kickoff-webinar|before:1d|2021-11-19T07:00:00+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'kickoff-webinar', 'before:1d', 'event', '2021-11-19 07:00:00+00', '2021-11-18 02:00:00+00', '2021-11-19 07:00:00+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (17, 'tomsk-2021|dou4@example.org|4|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'the deadline moved', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (18, 'tomsk-2021|dou4@example.org|4|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'the deadline moved', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (19, 'tomsk-2021|dou4@example.org|4|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'skipped', 'the deadline moved', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (29, 'tomsk-2021|dou15@example.org|15|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (30, 'tomsk-2021|dou15@example.org|15|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (13, 'tomsk-2021|dou2@example.org|2|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (14, 'tomsk-2021|dou2@example.org|2|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (33, 'tomsk-2021|dou35@example.org|35|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (34, 'tomsk-2021|dou35@example.org|35|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (37, 'tomsk-2021|dou40@example.org|40|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (38, 'tomsk-2021|dou40@example.org|40|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (41, 'tomsk-2021|dou62@example.org|62|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (78, 'tomsk-2021|dou2@example.org|2|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (79, 'tomsk-2021|dou2@example.org|2|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (80, 'tomsk-2021|dou2@example.org|2|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (81, 'tomsk-2021|dou2@example.org|2|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (82, 'tomsk-2021|dou4@example.org|4|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (83, 'tomsk-2021|dou4@example.org|4|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (84, 'tomsk-2021|dou4@example.org|4|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (85, 'tomsk-2021|dou4@example.org|4|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (86, 'tomsk-2021|dou5@example.org|5|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (87, 'tomsk-2021|dou5@example.org|5|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (88, 'tomsk-2021|dou5@example.org|5|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (89, 'tomsk-2021|dou5@example.org|5|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (90, 'tomsk-2021|dou6@example.org|6|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (91, 'tomsk-2021|dou6@example.org|6|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (92, 'tomsk-2021|dou6@example.org|6|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (93, 'tomsk-2021|dou6@example.org|6|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (94, 'tomsk-2021|dou15@example.org|15|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (95, 'tomsk-2021|dou15@example.org|15|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (96, 'tomsk-2021|dou15@example.org|15|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (97, 'tomsk-2021|dou15@example.org|15|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (98, 'tomsk-2021|dou35@example.org|35|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (99, 'tomsk-2021|dou35@example.org|35|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (100, 'tomsk-2021|dou35@example.org|35|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (101, 'tomsk-2021|dou35@example.org|35|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (102, 'tomsk-2021|dou40@example.org|40|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (103, 'tomsk-2021|dou40@example.org|40|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (104, 'tomsk-2021|dou40@example.org|40|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (105, 'tomsk-2021|dou40@example.org|40|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (106, 'tomsk-2021|dou62@example.org|62|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (107, 'tomsk-2021|dou62@example.org|62|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (108, 'tomsk-2021|dou62@example.org|62|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (109, 'tomsk-2021|dou62@example.org|62|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (110, 'tomsk-2021|dou73@example.org|73|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (111, 'tomsk-2021|dou73@example.org|73|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (112, 'tomsk-2021|dou73@example.org|73|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (113, 'tomsk-2021|dou73@example.org|73|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (114, 'tomsk-2021|dou86@example.org|86|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (115, 'tomsk-2021|dou86@example.org|86|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (116, 'tomsk-2021|dou86@example.org|86|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (117, 'tomsk-2021|dou86@example.org|86|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (118, 'tomsk-2021|dou94@example.org|94|refill|opens|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'refill', 'opens', 'opened', '2021-12-12 16:59:59+00', '2021-12-07 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (119, 'tomsk-2021|dou94@example.org|94|refill|before:2wd|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'refill', 'before:2wd', 'before_due', '2021-12-12 16:59:59+00', '2021-12-09 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (120, 'tomsk-2021|dou94@example.org|94|refill|due|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'refill', 'due', 'before_due', '2021-12-12 16:59:59+00', '2021-12-10 02:00:00+00', '2021-12-12 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (121, 'tomsk-2021|dou94@example.org|94|refill|missed|2021-12-12T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'refill', 'missed', 'missed', '2021-12-12 16:59:59+00', '2021-12-13 02:00:00+00', '2021-12-16 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (122, 'tomsk-2021|dou2@example.org|2|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (123, 'tomsk-2021|dou4@example.org|4|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (124, 'tomsk-2021|dou5@example.org|5|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (125, 'tomsk-2021|dou6@example.org|6|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (126, 'tomsk-2021|dou15@example.org|15|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (127, 'tomsk-2021|dou35@example.org|35|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (128, 'tomsk-2021|dou40@example.org|40|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (129, 'tomsk-2021|dou62@example.org|62|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (130, 'tomsk-2021|dou73@example.org|73|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (131, 'tomsk-2021|dou86@example.org|86|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (132, 'tomsk-2021|dou94@example.org|94|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (133, 'tomsk-2021|expert15@example.org|15|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '15', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (134, 'tomsk-2021|expert2@example.org|2|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '2', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (135, 'tomsk-2021|expert35@example.org|35|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '35', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (136, 'tomsk-2021|expert4@example.org|4|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '4', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (137, 'tomsk-2021|expert40@example.org|40|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '40', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (138, 'tomsk-2021|expert5@example.org|5|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '5', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (139, 'tomsk-2021|expert6@example.org|6|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '6', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (140, 'tomsk-2021|expert62@example.org|62|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '62', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (141, 'tomsk-2021|expert73@example.org|73|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '73', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (142, 'tomsk-2021|expert86@example.org|86|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '86', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (143, 'tomsk-2021|expert94@example.org|94|review2-webinar|before:1d|2021-12-14T17:00:00+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '94', 'review2-webinar', 'before:1d', 'event', '2021-12-14 17:00:00+00', '2021-12-14 02:00:00+00', '2021-12-14 17:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (144, 'tomsk-2021|dou2@example.org|2|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (145, 'tomsk-2021|dou2@example.org|2|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (146, 'tomsk-2021|dou2@example.org|2|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (147, 'tomsk-2021|dou2@example.org|2|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (148, 'tomsk-2021|dou4@example.org|4|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (149, 'tomsk-2021|dou4@example.org|4|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (150, 'tomsk-2021|dou4@example.org|4|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (151, 'tomsk-2021|dou4@example.org|4|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (152, 'tomsk-2021|dou5@example.org|5|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (153, 'tomsk-2021|dou5@example.org|5|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (154, 'tomsk-2021|dou5@example.org|5|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (155, 'tomsk-2021|dou5@example.org|5|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (156, 'tomsk-2021|dou6@example.org|6|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (157, 'tomsk-2021|dou6@example.org|6|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (158, 'tomsk-2021|dou6@example.org|6|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (159, 'tomsk-2021|dou6@example.org|6|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (160, 'tomsk-2021|dou15@example.org|15|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (161, 'tomsk-2021|dou15@example.org|15|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (162, 'tomsk-2021|dou15@example.org|15|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (163, 'tomsk-2021|dou15@example.org|15|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (164, 'tomsk-2021|dou35@example.org|35|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (165, 'tomsk-2021|dou35@example.org|35|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (166, 'tomsk-2021|dou35@example.org|35|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (167, 'tomsk-2021|dou35@example.org|35|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (168, 'tomsk-2021|dou40@example.org|40|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (169, 'tomsk-2021|dou40@example.org|40|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (170, 'tomsk-2021|dou40@example.org|40|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (171, 'tomsk-2021|dou40@example.org|40|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (172, 'tomsk-2021|dou62@example.org|62|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (173, 'tomsk-2021|dou62@example.org|62|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (174, 'tomsk-2021|dou62@example.org|62|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (175, 'tomsk-2021|dou62@example.org|62|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (176, 'tomsk-2021|dou73@example.org|73|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (177, 'tomsk-2021|dou73@example.org|73|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (178, 'tomsk-2021|dou73@example.org|73|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (179, 'tomsk-2021|dou73@example.org|73|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (180, 'tomsk-2021|dou86@example.org|86|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (181, 'tomsk-2021|dou86@example.org|86|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (182, 'tomsk-2021|dou86@example.org|86|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (183, 'tomsk-2021|dou86@example.org|86|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (184, 'tomsk-2021|dou94@example.org|94|final-fix|opens|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'final-fix', 'opens', 'opened', '2021-12-19 16:59:59+00', '2021-12-15 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (185, 'tomsk-2021|dou94@example.org|94|final-fix|before:2wd|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'final-fix', 'before:2wd', 'before_due', '2021-12-19 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (186, 'tomsk-2021|dou94@example.org|94|final-fix|due|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'final-fix', 'due', 'before_due', '2021-12-19 16:59:59+00', '2021-12-17 02:00:00+00', '2021-12-19 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (187, 'tomsk-2021|dou94@example.org|94|final-fix|missed|2021-12-19T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'final-fix', 'missed', 'missed', '2021-12-19 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-23 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (188, 'tomsk-2021|dou2@example.org|2|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (189, 'tomsk-2021|dou2@example.org|2|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (190, 'tomsk-2021|dou2@example.org|2|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (191, 'tomsk-2021|dou2@example.org|2|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (192, 'tomsk-2021|dou4@example.org|4|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (193, 'tomsk-2021|dou4@example.org|4|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (194, 'tomsk-2021|dou4@example.org|4|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (195, 'tomsk-2021|dou4@example.org|4|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (196, 'tomsk-2021|dou5@example.org|5|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (197, 'tomsk-2021|dou5@example.org|5|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (198, 'tomsk-2021|dou5@example.org|5|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (199, 'tomsk-2021|dou5@example.org|5|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (200, 'tomsk-2021|dou6@example.org|6|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (201, 'tomsk-2021|dou6@example.org|6|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (202, 'tomsk-2021|dou6@example.org|6|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (203, 'tomsk-2021|dou6@example.org|6|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (204, 'tomsk-2021|dou15@example.org|15|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (205, 'tomsk-2021|dou15@example.org|15|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (206, 'tomsk-2021|dou15@example.org|15|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (207, 'tomsk-2021|dou15@example.org|15|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (208, 'tomsk-2021|dou35@example.org|35|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (209, 'tomsk-2021|dou35@example.org|35|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (210, 'tomsk-2021|dou35@example.org|35|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (211, 'tomsk-2021|dou35@example.org|35|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (212, 'tomsk-2021|dou40@example.org|40|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (213, 'tomsk-2021|dou40@example.org|40|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (214, 'tomsk-2021|dou40@example.org|40|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (215, 'tomsk-2021|dou40@example.org|40|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (216, 'tomsk-2021|dou62@example.org|62|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (217, 'tomsk-2021|dou62@example.org|62|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (218, 'tomsk-2021|dou62@example.org|62|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (219, 'tomsk-2021|dou62@example.org|62|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (220, 'tomsk-2021|dou73@example.org|73|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (221, 'tomsk-2021|dou73@example.org|73|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (222, 'tomsk-2021|dou73@example.org|73|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (223, 'tomsk-2021|dou73@example.org|73|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (224, 'tomsk-2021|dou86@example.org|86|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (225, 'tomsk-2021|dou86@example.org|86|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (226, 'tomsk-2021|dou86@example.org|86|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (227, 'tomsk-2021|dou86@example.org|86|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (228, 'tomsk-2021|dou94@example.org|94|operator-submission|opens|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'operator-submission', 'opens', 'opened', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (229, 'tomsk-2021|dou94@example.org|94|operator-submission|before:2wd|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'operator-submission', 'before:2wd', 'before_due', '2021-12-20 16:59:59+00', '2021-12-16 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'it would go out before the stage opens', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (230, 'tomsk-2021|dou94@example.org|94|operator-submission|due|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'operator-submission', 'due', 'due_today', '2021-12-20 16:59:59+00', '2021-12-20 02:00:00+00', '2021-12-20 16:59:59+00', 'skipped', 'same send time as rule ''opens''', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (231, 'tomsk-2021|dou94@example.org|94|operator-submission|missed|2021-12-20T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'operator-submission', 'missed', 'missed', '2021-12-20 16:59:59+00', '2021-12-21 02:00:00+00', '2021-12-24 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (232, 'tomsk-2021|kdo@imc.example.org|-|analysis|before:3d|2022-01-20T16:59:59+00:00', 'tomsk-2021', 'kdo@imc.example.org', 'coordinator', NULL, 'analysis', 'before:3d', 'before_due', '2022-01-20 16:59:59+00', '2022-01-17 02:00:00+00', '2022-01-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (233, 'tomsk-2021|kdo@imc.example.org|-|analysis|due|2022-01-20T16:59:59+00:00', 'tomsk-2021', 'kdo@imc.example.org', 'coordinator', NULL, 'analysis', 'due', 'due_today', '2022-01-20 16:59:59+00', '2022-01-20 02:00:00+00', '2022-01-20 16:59:59+00', 'pending', NULL, 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (12, 'tomsk-2021|dou2@example.org|2|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'already submitted', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (28, 'tomsk-2021|dou15@example.org|15|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<be37551135446376ca8a57df477d8173@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (32, 'tomsk-2021|dou35@example.org|35|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<1252447d390329bf1c28a5522bd306bc@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (36, 'tomsk-2021|dou40@example.org|40|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<4623955f3da87ae791571d055db81156@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (16, 'tomsk-2021|dou4@example.org|4|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<f299ad7e968a4ade7c60ae8399499481@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (20, 'tomsk-2021|dou5@example.org|5|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<198a4a53f8add4bd3164915319005f56@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (40, 'tomsk-2021|dou62@example.org|62|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<76f243373a65ae0eed7fc4ac429e380a@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (24, 'tomsk-2021|dou6@example.org|6|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<2d0044ee89f333de5f84d0497cbc60e1@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (44, 'tomsk-2021|dou73@example.org|73|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<e62fe9ded90bf0bc0af4bf363bc74834@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (48, 'tomsk-2021|dou86@example.org|86|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<dee40527394fccbd5ef6de3b629e2dfb@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (52, 'tomsk-2021|dou94@example.org|94|fill-form|opens|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'fill-form', 'opens', 'opened', '2021-11-30 16:59:59+00', '2021-11-19 02:00:00+00', '2021-11-30 16:59:59+00', 'sent', NULL, 1, NULL, '<3f557900c5bd6ec3be5d6543d722371a@imc.example.org>', '2021-11-19 03:00:00+00', '2021-11-22 03:00:00+00', false);
INSERT INTO public.outbox VALUES (237, 'tomsk-2021|expert5@example.org|2|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '2', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (241, 'tomsk-2021|expert62@example.org|2|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '2', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (245, 'tomsk-2021|expert40@example.org|4|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '4', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (249, 'tomsk-2021|expert6@example.org|4|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '4', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (253, 'tomsk-2021|expert15@example.org|5|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '5', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (257, 'tomsk-2021|expert35@example.org|5|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '5', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (261, 'tomsk-2021|expert15@example.org|6|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '6', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (265, 'tomsk-2021|expert73@example.org|6|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '6', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (269, 'tomsk-2021|expert35@example.org|15|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '15', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (273, 'tomsk-2021|expert94@example.org|15|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '15', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (277, 'tomsk-2021|expert6@example.org|35|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '35', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (281, 'tomsk-2021|expert86@example.org|35|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '35', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (285, 'tomsk-2021|expert2@example.org|40|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '40', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (289, 'tomsk-2021|expert86@example.org|40|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '40', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (293, 'tomsk-2021|expert4@example.org|62|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '62', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (297, 'tomsk-2021|expert40@example.org|62|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '62', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (301, 'tomsk-2021|expert4@example.org|73|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '73', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (305, 'tomsk-2021|expert5@example.org|73|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '73', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (309, 'tomsk-2021|expert73@example.org|86|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '86', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (313, 'tomsk-2021|expert94@example.org|86|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '86', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (317, 'tomsk-2021|expert2@example.org|94|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '94', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (321, 'tomsk-2021|expert62@example.org|94|review1|missed|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '94', 'review1', 'missed', 'missed', '2021-12-05 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (322, 'tomsk-2021|dou4@example.org|4|fill-form|opens|2021-12-03T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'opens', 'opened', '2021-12-03 16:59:59+00', '2021-11-19 02:00:00+00', '2021-12-03 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (325, 'tomsk-2021|dou4@example.org|4|fill-form|missed|2021-12-03T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'missed', 'missed', '2021-12-03 16:59:59+00', '2021-12-06 02:00:00+00', '2021-12-09 02:00:00+00', 'pending', NULL, 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (326, 'tomsk-2021|expert15@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (327, 'tomsk-2021|expert2@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (328, 'tomsk-2021|expert35@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (329, 'tomsk-2021|expert4@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (330, 'tomsk-2021|expert40@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (331, 'tomsk-2021|expert5@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (332, 'tomsk-2021|expert6@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (333, 'tomsk-2021|expert62@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (334, 'tomsk-2021|expert73@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (335, 'tomsk-2021|expert86@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (336, 'tomsk-2021|expert94@example.org|-|handout1|handout|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', NULL, 'handout1', 'handout', 'handout', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (337, 'tomsk-2021|kdo@imc.example.org|-|handout1|handout-copy|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'kdo@imc.example.org', 'coordinator', NULL, 'handout1', 'handout-copy', 'handout_copy', '2021-12-05 16:59:59+00', '2021-11-30 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'its time had passed when it was planned', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (21, 'tomsk-2021|dou5@example.org|5|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (22, 'tomsk-2021|dou5@example.org|5|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (42, 'tomsk-2021|dou62@example.org|62|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (25, 'tomsk-2021|dou6@example.org|6|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (26, 'tomsk-2021|dou6@example.org|6|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (45, 'tomsk-2021|dou73@example.org|73|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (46, 'tomsk-2021|dou73@example.org|73|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (49, 'tomsk-2021|dou86@example.org|86|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (50, 'tomsk-2021|dou86@example.org|86|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (53, 'tomsk-2021|dou94@example.org|94|fill-form|before:2wd|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'fill-form', 'before:2wd', 'before_due', '2021-11-30 16:59:59+00', '2021-11-26 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (54, 'tomsk-2021|dou94@example.org|94|fill-form|due|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'fill-form', 'due', 'due_today', '2021-11-30 16:59:59+00', '2021-11-30 02:00:00+00', '2021-11-30 16:59:59+00', 'skipped', 'its moment passed before it could be sent', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (15, 'tomsk-2021|dou2@example.org|2|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'skipped', 'the stage is done, not missed', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (23, 'tomsk-2021|dou5@example.org|5|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'skipped', 'the stage is done, not missed', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (27, 'tomsk-2021|dou6@example.org|6|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'skipped', 'the stage is excused, not missed', 0, NULL, NULL, '2021-11-19 03:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (234, 'tomsk-2021|expert5@example.org|2|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '2', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (235, 'tomsk-2021|expert5@example.org|2|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '2', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (238, 'tomsk-2021|expert62@example.org|2|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '2', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (239, 'tomsk-2021|expert62@example.org|2|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '2', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (242, 'tomsk-2021|expert40@example.org|4|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '4', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (243, 'tomsk-2021|expert40@example.org|4|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '4', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (246, 'tomsk-2021|expert6@example.org|4|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '4', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (247, 'tomsk-2021|expert6@example.org|4|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '4', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (250, 'tomsk-2021|expert15@example.org|5|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '5', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'this expert already reviewed the ДОУ', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (251, 'tomsk-2021|expert15@example.org|5|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '5', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'this expert already reviewed the ДОУ', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (252, 'tomsk-2021|expert15@example.org|5|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '5', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'this expert already reviewed the ДОУ', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (254, 'tomsk-2021|expert35@example.org|5|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '5', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (255, 'tomsk-2021|expert35@example.org|5|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '5', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (258, 'tomsk-2021|expert15@example.org|6|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '6', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (259, 'tomsk-2021|expert15@example.org|6|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '6', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (262, 'tomsk-2021|expert73@example.org|6|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '6', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (263, 'tomsk-2021|expert73@example.org|6|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '6', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (266, 'tomsk-2021|expert35@example.org|15|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '15', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (267, 'tomsk-2021|expert35@example.org|15|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '15', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (270, 'tomsk-2021|expert94@example.org|15|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '15', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (271, 'tomsk-2021|expert94@example.org|15|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '15', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (274, 'tomsk-2021|expert6@example.org|35|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '35', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (275, 'tomsk-2021|expert6@example.org|35|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '35', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (278, 'tomsk-2021|expert86@example.org|35|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '35', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (279, 'tomsk-2021|expert86@example.org|35|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '35', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (282, 'tomsk-2021|expert2@example.org|40|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '40', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (283, 'tomsk-2021|expert2@example.org|40|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '40', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (286, 'tomsk-2021|expert86@example.org|40|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '40', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (287, 'tomsk-2021|expert86@example.org|40|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '40', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (290, 'tomsk-2021|expert4@example.org|62|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '62', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (291, 'tomsk-2021|expert4@example.org|62|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '62', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (294, 'tomsk-2021|expert40@example.org|62|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '62', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (295, 'tomsk-2021|expert40@example.org|62|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '62', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (298, 'tomsk-2021|expert4@example.org|73|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '73', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (299, 'tomsk-2021|expert4@example.org|73|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '73', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (302, 'tomsk-2021|expert5@example.org|73|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '73', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (303, 'tomsk-2021|expert5@example.org|73|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '73', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (306, 'tomsk-2021|expert73@example.org|86|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '86', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (307, 'tomsk-2021|expert73@example.org|86|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '86', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (310, 'tomsk-2021|expert94@example.org|86|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '86', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (311, 'tomsk-2021|expert94@example.org|86|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '86', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (314, 'tomsk-2021|expert2@example.org|94|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '94', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (315, 'tomsk-2021|expert2@example.org|94|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '94', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (318, 'tomsk-2021|expert62@example.org|94|review1|opens|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '94', 'review1', 'opens', 'opened', '2021-12-05 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (319, 'tomsk-2021|expert62@example.org|94|review1|before:2wd|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '94', 'review1', 'before:2wd', 'before_due', '2021-12-05 16:59:59+00', '2021-12-02 02:00:00+00', '2021-12-05 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-29 05:00:00+00', NULL, false);
INSERT INTO public.outbox VALUES (323, 'tomsk-2021|dou4@example.org|4|fill-form|before:2wd|2021-12-03T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'before:2wd', 'before_due', '2021-12-03 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-03 16:59:59+00', 'skipped', 'superseded by a later reminder for the same deadline', 0, NULL, NULL, '2021-11-30 16:30:00+00', NULL, false);
INSERT INTO public.outbox VALUES (31, 'tomsk-2021|dou15@example.org|15|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<42846986b1322b96cfd007bd83609064@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (60, 'tomsk-2021|dou15@example.org|15|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou15@example.org', 'institution', '15', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<42846986b1322b96cfd007bd83609064@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (56, 'tomsk-2021|dou2@example.org|2|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou2@example.org', 'institution', '2', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<24e8e3996643eb129fc65bff7131b704@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (35, 'tomsk-2021|dou35@example.org|35|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<aa087daadac1e49251d1319f61b0710f@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (61, 'tomsk-2021|dou35@example.org|35|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou35@example.org', 'institution', '35', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<aa087daadac1e49251d1319f61b0710f@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (39, 'tomsk-2021|dou40@example.org|40|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<616dd42bf012205405d49875b5ba4fa5@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (62, 'tomsk-2021|dou40@example.org|40|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou40@example.org', 'institution', '40', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<616dd42bf012205405d49875b5ba4fa5@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (324, 'tomsk-2021|dou4@example.org|4|fill-form|due|2021-12-03T16:59:59+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'fill-form', 'due', 'due_today', '2021-12-03 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-03 16:59:59+00', 'sent', NULL, 1, NULL, '<f187c1ace386be61333713eb00005816@imc.example.org>', '2021-11-30 16:30:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (57, 'tomsk-2021|dou4@example.org|4|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou4@example.org', 'institution', '4', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<f187c1ace386be61333713eb00005816@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (58, 'tomsk-2021|dou5@example.org|5|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou5@example.org', 'institution', '5', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<63c798bad006c88f742621202a69a0af@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (43, 'tomsk-2021|dou62@example.org|62|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<a71376a39e0567259deffb99a21cf6e5@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (63, 'tomsk-2021|dou62@example.org|62|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou62@example.org', 'institution', '62', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<a71376a39e0567259deffb99a21cf6e5@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (59, 'tomsk-2021|dou6@example.org|6|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou6@example.org', 'institution', '6', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<088f109cb31d5b71ca163645325302c6@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (47, 'tomsk-2021|dou73@example.org|73|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<734f31009e1dc5df0b0ff600ade30faa@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (64, 'tomsk-2021|dou73@example.org|73|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou73@example.org', 'institution', '73', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<734f31009e1dc5df0b0ff600ade30faa@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (51, 'tomsk-2021|dou86@example.org|86|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<d2e9ac135a7eae80dad78cd9170b603a@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (65, 'tomsk-2021|dou86@example.org|86|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou86@example.org', 'institution', '86', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<d2e9ac135a7eae80dad78cd9170b603a@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (55, 'tomsk-2021|dou94@example.org|94|fill-form|missed|2021-11-30T16:59:59+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'fill-form', 'missed', 'missed', '2021-11-30 16:59:59+00', '2021-12-01 02:00:00+00', '2021-12-04 02:00:00+00', 'sent', NULL, 1, NULL, '<6a6bd2cbcead60330a966ab2d8026b10@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (66, 'tomsk-2021|dou94@example.org|94|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'dou94@example.org', 'institution', '94', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<6a6bd2cbcead60330a966ab2d8026b10@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (260, 'tomsk-2021|expert15@example.org|6|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '6', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<82f645cc935f4e46ee0d704e014a2bc5@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (67, 'tomsk-2021|expert15@example.org|15|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert15@example.org', 'expert', '15', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<82f645cc935f4e46ee0d704e014a2bc5@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (284, 'tomsk-2021|expert2@example.org|40|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '40', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<72333eadb958ba39200176301cce0b81@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (316, 'tomsk-2021|expert2@example.org|94|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '94', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<72333eadb958ba39200176301cce0b81@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (68, 'tomsk-2021|expert2@example.org|2|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert2@example.org', 'expert', '2', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<72333eadb958ba39200176301cce0b81@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (256, 'tomsk-2021|expert35@example.org|5|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '5', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<58960566641c25fc2787769386ad362b@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (268, 'tomsk-2021|expert35@example.org|15|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '15', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<58960566641c25fc2787769386ad362b@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (69, 'tomsk-2021|expert35@example.org|35|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert35@example.org', 'expert', '35', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<58960566641c25fc2787769386ad362b@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (244, 'tomsk-2021|expert40@example.org|4|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '4', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<93f43f6800da3afa60570ed68b51e8c4@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (296, 'tomsk-2021|expert40@example.org|62|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '62', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<93f43f6800da3afa60570ed68b51e8c4@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (71, 'tomsk-2021|expert40@example.org|40|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert40@example.org', 'expert', '40', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<93f43f6800da3afa60570ed68b51e8c4@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (292, 'tomsk-2021|expert4@example.org|62|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '62', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<090319059ca0cd60a1bc3b957b272ea3@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (300, 'tomsk-2021|expert4@example.org|73|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '73', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<090319059ca0cd60a1bc3b957b272ea3@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (70, 'tomsk-2021|expert4@example.org|4|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert4@example.org', 'expert', '4', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<090319059ca0cd60a1bc3b957b272ea3@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (236, 'tomsk-2021|expert5@example.org|2|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '2', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<38f0bf03786cbff833258ea4fe145cd6@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (304, 'tomsk-2021|expert5@example.org|73|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '73', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<38f0bf03786cbff833258ea4fe145cd6@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (72, 'tomsk-2021|expert5@example.org|5|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert5@example.org', 'expert', '5', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<38f0bf03786cbff833258ea4fe145cd6@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (240, 'tomsk-2021|expert62@example.org|2|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '2', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<1c2958fe46780d0976a40fbbd490521d@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (320, 'tomsk-2021|expert62@example.org|94|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '94', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<1c2958fe46780d0976a40fbbd490521d@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (74, 'tomsk-2021|expert62@example.org|62|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert62@example.org', 'expert', '62', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<1c2958fe46780d0976a40fbbd490521d@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (248, 'tomsk-2021|expert6@example.org|4|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '4', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<092feb06e399683befed66af9c664299@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (276, 'tomsk-2021|expert6@example.org|35|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '35', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<092feb06e399683befed66af9c664299@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (73, 'tomsk-2021|expert6@example.org|6|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert6@example.org', 'expert', '6', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<092feb06e399683befed66af9c664299@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (264, 'tomsk-2021|expert73@example.org|6|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '6', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<3f5700c81948dbbf5dc57a36b9ccf134@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (308, 'tomsk-2021|expert73@example.org|86|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '86', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<3f5700c81948dbbf5dc57a36b9ccf134@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (75, 'tomsk-2021|expert73@example.org|73|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert73@example.org', 'expert', '73', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<3f5700c81948dbbf5dc57a36b9ccf134@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (280, 'tomsk-2021|expert86@example.org|35|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '35', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<d947a1df88aea5dd2c39e1238e8b326e@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (288, 'tomsk-2021|expert86@example.org|40|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '40', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<d947a1df88aea5dd2c39e1238e8b326e@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (76, 'tomsk-2021|expert86@example.org|86|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert86@example.org', 'expert', '86', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<d947a1df88aea5dd2c39e1238e8b326e@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (272, 'tomsk-2021|expert94@example.org|15|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '15', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<dda31562ec683d031d23cdd840b09b0d@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (312, 'tomsk-2021|expert94@example.org|86|review1|due|2021-12-05T16:59:59+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '86', 'review1', 'due', 'before_due', '2021-12-05 16:59:59+00', '2021-12-03 02:00:00+00', '2021-12-05 16:59:59+00', 'sent', NULL, 1, NULL, '<dda31562ec683d031d23cdd840b09b0d@imc.example.org>', '2021-11-29 05:00:00+00', '2021-12-03 04:00:00+00', false);
INSERT INTO public.outbox VALUES (77, 'tomsk-2021|expert94@example.org|94|review1-webinar|before:1d|2021-12-05T17:00:00+00:00', 'tomsk-2021', 'expert94@example.org', 'expert', '94', 'review1-webinar', 'before:1d', 'event', '2021-12-05 17:00:00+00', '2021-12-03 02:00:00+00', '2021-12-05 17:00:00+00', 'sent', NULL, 1, NULL, '<dda31562ec683d031d23cdd840b09b0d@imc.example.org>', '2021-11-19 03:00:00+00', '2021-12-03 04:00:00+00', false);


--
-- Data for Name: progress; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.progress VALUES ('tomsk-2021', '2', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '4', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '5', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '6', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '15', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '35', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '40', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '62', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '73', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '86', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '94', 'review2', 'upcoming', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, NULL, NULL);
INSERT INTO public.progress VALUES ('tomsk-2021', '2', 'fill-form', 'done', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, '2021-11-22 03:00:00+00', '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '2', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '4', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '5', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '6', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '15', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '35', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '40', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '62', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '73', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '86', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '94', 'review1', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, NULL, '2021-12-05 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '2', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '4', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '5', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '6', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '15', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '35', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '40', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '62', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '73', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '86', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '94', 'refill', 'upcoming', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, NULL, '2021-12-12 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '2', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '4', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '5', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '6', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '15', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '35', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '40', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '62', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '73', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '86', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '94', 'final-fix', 'upcoming', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, NULL, '2021-12-19 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '2', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '4', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '5', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '6', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '15', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '35', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '40', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '62', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '73', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '86', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '94', 'operator-submission', 'upcoming', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, NULL, '2021-12-20 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '4', 'fill-form', 'open', '2021-11-18 17:00:00+00', '2021-12-03 16:59:59+00', '2021-12-03 16:59:59+00', true, NULL, '2021-12-03 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '5', 'fill-form', 'done', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, '2021-11-30 16:30:00+00', '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '6', 'fill-form', 'excused', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '15', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '35', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '40', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '62', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '73', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '86', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');
INSERT INTO public.progress VALUES ('tomsk-2021', '94', 'fill-form', 'missed', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, NULL, '2021-11-30 16:59:59+00');


--
-- Data for Name: review; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.review VALUES ('tomsk-2021', 'review1', '5', 'e15', '2021-12-03 04:00:00+00', '{"conditions": "2", "parents": "3"}', 'Дополнить ссылки на протоколы родительских собраний.');


--
-- Data for Name: stage; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.stage VALUES ('tomsk-2021', 'refill', 6, 'task', 'institution', 'scheduled', '2021-12-06 17:00:00+00', '2021-12-12 16:59:59+00', '2021-12-12 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'list2', 7, 'assignment', 'coordinator', 'scheduled', '2021-12-07 17:00:00+00', '2021-12-08 16:59:59+00', '2021-12-08 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'handout2', 8, 'handout', 'coordinator', 'scheduled', '2021-12-09 17:00:00+00', '2021-12-10 16:59:59+00', '2021-12-10 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'review2', 9, 'task', 'expert', 'scheduled', '2021-12-09 17:00:00+00', '2021-12-14 16:59:59+00', '2021-12-14 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'final-fix', 11, 'task', 'institution', 'scheduled', '2021-12-14 17:00:00+00', '2021-12-19 16:59:59+00', '2021-12-19 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'operator-submission', 12, 'task', 'institution', 'scheduled', '2021-12-19 17:00:00+00', '2021-12-20 16:59:59+00', '2021-12-20 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'review1-webinar', 5, 'event', NULL, 'scheduled', '2021-12-05 17:00:00+00', '2021-12-05 17:00:00+00', '2021-12-05 17:00:00+00', true, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'review2-webinar', 10, 'event', NULL, 'scheduled', '2021-12-14 17:00:00+00', '2021-12-14 17:00:00+00', '2021-12-14 17:00:00+00', true, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'analysis', 13, 'task', 'coordinator', 'scheduled', '2021-12-19 17:00:00+00', '2022-01-20 16:59:59+00', '2022-01-20 16:59:59+00', true, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'kickoff-webinar', 0, 'event', NULL, 'held', '2021-11-19 07:00:00+00', '2021-11-19 07:00:00+00', '2021-11-19 07:00:00+00', true, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'list1', 2, 'assignment', 'coordinator', 'locked', '2021-11-24 17:00:00+00', '2021-11-25 16:59:59+00', '2021-11-25 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'fill-form', 1, 'task', 'institution', 'locked', '2021-11-18 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', false, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'handout1', 3, 'handout', 'coordinator', 'locked', '2021-11-29 17:00:00+00', '2021-11-30 16:59:59+00', '2021-11-30 16:59:59+00', true, false);
INSERT INTO public.stage VALUES ('tomsk-2021', 'review1', 4, 'task', 'expert', 'open', '2021-11-30 17:00:00+00', '2021-12-05 16:59:59+00', '2021-12-05 16:59:59+00', false, false);


--
-- Data for Name: submission; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.submission VALUES (1, 'tomsk-2021', '2', 'fill-form', '2021-11-22 03:00:00+00', '["https://dou2.example.org/form"]');
INSERT INTO public.submission VALUES (2, 'tomsk-2021', '5', 'fill-form', '2021-11-30 16:30:00+00', '["https://dou5.example.org/form"]');


--
-- Name: audit_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_id_seq', 44, true);


--
-- Name: extension_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.extension_id_seq', 1, true);


--
-- Name: outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.outbox_id_seq', 337, true);


--
-- Name: submission_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.submission_id_seq', 2, true);


--
-- Name: assignment assignment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.assignment
    ADD CONSTRAINT assignment_pkey PRIMARY KEY (campaign_id, stage_id, institution_id, expert_id);


--
-- Name: audit audit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (id);


--
-- Name: campaign campaign_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign
    ADD CONSTRAINT campaign_pkey PRIMARY KEY (id);


--
-- Name: expert expert_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.expert
    ADD CONSTRAINT expert_pkey PRIMARY KEY (campaign_id, id);


--
-- Name: extension extension_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.extension
    ADD CONSTRAINT extension_pkey PRIMARY KEY (id);


--
-- Name: institution institution_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.institution
    ADD CONSTRAINT institution_pkey PRIMARY KEY (campaign_id, id);


--
-- Name: outbox outbox_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_key_key UNIQUE (key);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);


--
-- Name: progress progress_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.progress
    ADD CONSTRAINT progress_pkey PRIMARY KEY (campaign_id, institution_id, stage_id);


--
-- Name: review review_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.review
    ADD CONSTRAINT review_pkey PRIMARY KEY (campaign_id, stage_id, institution_id, expert_id);


--
-- Name: stage stage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stage
    ADD CONSTRAINT stage_pkey PRIMARY KEY (campaign_id, id);


--
-- Name: submission submission_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.submission
    ADD CONSTRAINT submission_pkey PRIMARY KEY (id);


--
-- Name: ix_audit_institution; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_institution ON public.audit USING btree (campaign_id, institution_id, id);


--
-- Name: ix_extension_campaign_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_extension_campaign_id ON public.extension USING btree (campaign_id);


--
-- Name: ix_outbox_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_due ON public.outbox USING btree (state, send_at);


--
-- Name: ix_outbox_progress; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_progress ON public.outbox USING btree (campaign_id, institution_id, stage_id);


--
-- Name: ix_outbox_recipient; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_recipient ON public.outbox USING btree (campaign_id, recipient);


--
-- Name: ix_progress_stage_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_progress_stage_status ON public.progress USING btree (campaign_id, stage_id, status);


--
-- Name: ix_submission_campaign_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_submission_campaign_id ON public.submission USING btree (campaign_id);


--
-- Name: assignment assignment_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.assignment
    ADD CONSTRAINT assignment_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id);


--
-- Name: expert expert_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.expert
    ADD CONSTRAINT expert_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id);


--
-- Name: institution institution_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.institution
    ADD CONSTRAINT institution_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id);


--
-- Name: progress progress_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.progress
    ADD CONSTRAINT progress_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id);


--
-- Name: review review_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.review
    ADD CONSTRAINT review_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id);


--
-- Name: stage stage_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stage
    ADD CONSTRAINT stage_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id);


--
-- PostgreSQL database dump complete
--


