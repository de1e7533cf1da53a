'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const LINKS = [
  { href: '/executive', label: 'Executive' },
  { href: '/oncall', label: 'On-call' },
  { href: '/debug', label: 'Debug' },
  { href: '/deployments', label: 'Deployments' },
  { href: '/runbooks', label: 'Runbooks' },
  { href: '/audit', label: 'Audit' },
];

/** The console's sections, the current one marked for screen readers and the eye. */
export function NavLinks() {
  const path = usePathname();
  return (
    <ul className="nav-links">
      {LINKS.map((l) => {
        const current = path === l.href || path.startsWith(`${l.href}/`);
        return (
          <li key={l.href}>
            <Link href={l.href} aria-current={current ? 'page' : undefined}>
              {l.label}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
