// The SKILL.md reader lives in src/lib/skills/front-matter.ts (the gateway installs skills with it).
export {TOOL_NAME_RE, SkillFrontMatter, backtickedNames, parseFrontMatterBlock, parseSkillFile, type SkillFile} from '../../src/lib/skills/front-matter.js'
